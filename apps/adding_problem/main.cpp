// adding_problem: the adding problem from the command line (the example of
// docs/writing_a_model.md): parse, train or evaluate (adding_app.cpp), report.
#include "apps/adding_problem/adding_app.hpp"
#include "apps/common/main.hpp"

int main(int argc, char** argv) {
  using namespace tg;
  adding::Settings settings;
  const app::Program program{
      "adding_problem",
      "Trains a recurrent network on the adding problem (Hochreiter & Schmidhuber 1997): each step "
      "carries (value, marker); the target is the sum of the two marked values, one in each half of the "
      "sequence. Reports the MSE on a fixed held-out set beside the baseline of always predicting 1.0 "
      "(about 0.167). The sequences are fresh at every step; an epoch is 1000 batches. The code is the "
      "example of docs/writing_a_model.md.",
      "  adding_problem                        LSTM, T = 50, 2000 steps\n"
      "  adding_problem --cell rnn             the simple RNN on the same task\n"
      "  adding_problem --length 100 --save lstm.st --metrics lstm.csv\n"
      "  adding_problem --load lstm.st --steps 4000    train on to step 4000\n"
      "  adding_problem --load lstm.st --eval-only     evaluate the checkpoint\n"
      "  adding_problem --load lstm.st --eval-only --length 200 --allow-changes"};
  return app::main(argc, argv, program, [&](app::Frame& frame) { adding::add_flags(frame, settings); },
                   [&](app::Frame& frame, const parallel::Environment&) {
                     adding::check_memory(settings, frame);
                     const adding::RunResult result = adding::run(settings, frame, frame.out());
                     if (frame.reporting()) adding::add_report(frame.report(), settings, frame, result);
                   });
}

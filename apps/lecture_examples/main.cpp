// lecture_examples: the lecture's worked examples, step by step, through the
// generic RNN and LSTM layers. The command line is the apps' frame without
// the training flags (apps/common/frame.hpp): --help, "prog: error:" and exit
// code 2 for anything else.
#include <fmt/core.h>

#include "apps/common/frame.hpp"
#include "apps/lecture_examples/lecture.hpp"

namespace {

std::string vec(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:g}", i ? " " : "", v[i] + 0.0);
  return s;
}

void print_rnn(std::FILE* out, bool order_changed) {
  fmt::print(out, "\nRNN, all weights 1, linear units, memory starts at 0 0{}\n",
             order_changed ? " (order changed)" : "");
  fmt::print(out, "  {:>4}  {:>8}  {:>10}  {:>10}\n", "step", "input", "memory", "output");
  int t = 1;
  for (const auto& s : tg::lecture::rnn_example(tg::lecture::rnn_inputs(order_changed)))
    fmt::print(out, "  {:>4}  {:>8}  {:>10}  {:>10}\n", t++, vec(s.input), vec(s.memory), vec(s.output));
}

void print_lstm(std::FILE* out) {
  fmt::print(out, "\nLSTM, one memory cell: x2 = 1 adds x1 to memory, x2 = -1 resets it, x3 = 1 outputs it\n");
  fmt::print(out, "  {:>4}  {:>10}  {:>8}  {:>8}\n", "step", "x1 x2 x3", "memory", "y");
  int t = 1;
  for (const auto& s : tg::lecture::lstm_example(tg::lecture::lstm_inputs()))
    fmt::print(out, "  {:>4}  {:>10}  {:>8.3f}  {:>8.3f}\n", t++, vec(s.input), s.memory[0] + 0.0,
               s.output[0] + 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  return tg::app::run_main("lecture_examples", [&] {
    tg::app::Frame frame("lecture_examples",
                         "Prints the lecture's two worked examples step by step (input, memory, "
                         "output), computed by tapegrad's generic RNN and LSTM layers with the "
                         "slides' hand-set weights: the simple RNN in both input orders, and the "
                         "LSTM memory cell. Trains nothing; --report writes the examples as a notebook.");
    // No training flags (the frame's footer would speak of them); --report.
    frame.cli().footer(
        "exit codes: 0 success, 1 the report cannot be written, 2 usage (an option\n"
        "or argument: it takes only --report).");
    frame.add_report_flag();
    frame.parse(argc, argv);  // --help prints the help and leaves with 0
    print_rnn(frame.out(), false);
    print_rnn(frame.out(), true);
    print_lstm(frame.out());
    frame.finish();
    return 0;
  });
}

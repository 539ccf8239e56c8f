// adding_problem's memory estimate (apps/common/memory_budget.hpp), checked
// before the held-out set is drawn or the model built.
#include <fmt/core.h>

#include "apps/adding_problem/adding_app.hpp"
#include "apps/common/memory_budget.hpp"

namespace tg::adding {
namespace {

// The estimate of one cell's run: the held-out set is evaluated whole.
app::MemoryEstimate estimate(const Settings& s, const std::string& cell, bool training, std::string drivers) {
  app::MemoryEstimate e(std::move(drivers));
  const double steps = double(s.length);
  const app::RecurrentShape rnn{cell, 2, double(s.hidden), 1, 1};
  e.parameters(rnn.parameters() + double(s.hidden) + 1, training);
  if (training) e.training(rnn, steps, double(s.batch));
  e.evaluation(rnn, steps, double(s.eval_size));
  e.add("the held-out set", 4.0 * steps * double(s.eval_size) * 2);
  return e;
}

}  // namespace

void check_memory(const Settings& s, const app::Frame& frame) {
  const bool training = !frame.flags().eval_only;
  // With --report, --compare trains the other cells one after the other:
  // the largest cell (lstm > gru > rnn in weights and activations) bounds them.
  const bool compares = frame.reporting() && training && s.compare != "none";
  auto runs = [&](const char* c) {
    return s.cell == c || (compares && (s.compare == "all" || s.compare.find(c) != std::string::npos));
  };
  const std::string cell = runs("lstm") ? "lstm" : runs("gru") ? "gru" : "rnn";
  const std::string drivers =
      fmt::format("--cell {} --hidden {} --length {}{} --eval-size {}{}", s.cell, s.hidden, s.length,
                  training ? fmt::format(" --batch {}", s.batch) : "", s.eval_size,
                  compares ? " --compare " + s.compare : "");
  app::check_memory(frame, estimate(s, cell, training, drivers));
}

}  // namespace tg::adding

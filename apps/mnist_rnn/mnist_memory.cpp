// mnist_rnn's memory estimate (apps/common/memory_budget.hpp), checked
// before the data is read or the model built.
#include <fmt/core.h>

#include "apps/common/memory_budget.hpp"
#include "apps/mnist_rnn/mnist_app.hpp"

namespace tg::mnist {

void check_memory(const Settings& s, const app::Frame& frame) {
  constexpr double kSteps = data::kMnistSide, kImages = 70000, kEvalChunk = 1000;
  const bool training = !frame.flags().eval_only;
  app::MemoryEstimate e(fmt::format("--cell {} --hidden {} --layers {}{}", s.cell, s.hidden, s.layers,
                                    training ? fmt::format(" --batch {}", s.batch) : ""));
  const app::RecurrentShape rnn{s.cell, kSteps, double(s.hidden), double(s.layers), 1};
  e.parameters(rnn.parameters() + double(s.hidden) * 10 + 10, training);
  if (training) e.training(rnn, kSteps, double(s.batch));
  e.evaluation(rnn, kSteps, kEvalChunk);
  e.add("the images", kImages * kSteps * kSteps);
  app::check_memory(frame, e);
}

}  // namespace tg::mnist

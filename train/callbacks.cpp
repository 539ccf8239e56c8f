#include <tapegrad/train/callbacks.hpp>

#include <fmt/core.h>

namespace tg::train {

std::string default_line(const Row& row) {
  std::string line = fmt::format("step {:5d}  epoch {:2d}  loss {:.4f}", row.step, row.epoch, row.loss);
  for (const auto& [name, value] : row.values) line += fmt::format("  {} {:.4f}", name, value);
  return line + fmt::format("  [train {:.1f} s]", row.train_seconds);
}

}  // namespace tg::train

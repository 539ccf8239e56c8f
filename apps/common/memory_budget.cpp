#include "apps/common/memory_budget.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "apps/common/frame.hpp"

namespace tg::app {
namespace {

constexpr double kFloat = 4;
constexpr double kProgram = 64.0 * 1024 * 1024;  // the executable, its libraries, BLAS buffers

// Floats per step, sequence and unit of each layer and direction that a
// training step keeps (activations for backward, then their gradients):
// the measured 2-3 (rnn), 9-11 (lstm), 9-10 (gru) with a margin.
double training_floats(const std::string& cell) {
  if (cell == "rnn") return 4;
  if (cell == "gru") return 12;
  return 14;
}

}  // namespace

double RecurrentShape::gates() const {
  if (cell == "rnn") return 1;
  if (cell == "gru") return 3;
  return 4;
}

double RecurrentShape::parameters() const {
  const double g = gates(), biases = cell == "gru" ? 2 : 1;
  const double first = (input + hidden) * g * hidden + biases * g * hidden;
  const double upper = (hidden * directions + hidden) * g * hidden + biases * g * hidden;
  return directions * (first + (layers - 1) * upper);
}

MemoryEstimate::MemoryEstimate(std::string drivers) : drivers_(std::move(drivers)) {
  add("the program", kProgram);
}

void MemoryEstimate::parameters(double count, bool optimizer) {
  add(optimizer ? "weights, gradients and Adam's moments" : "weights", count * kFloat * (optimizer ? 4 : 1));
}

void MemoryEstimate::training(const RecurrentShape& r, double steps, double batch) {
  const double per_step = training_floats(r.cell) * r.hidden * r.directions * r.layers + 3 * r.input;
  add("activations kept for backward", kFloat * steps * batch * per_step);
}

void MemoryEstimate::evaluation(const RecurrentShape& r, double steps, double batch) {
  // A layer's projection (G) and states, and every layer's outputs until the
  // forward returns: measured 4.6, 6.1, 7.8 (lstm, 1, 2, 4 layers).
  const double per_step = (r.gates() + 1 + r.layers) * r.hidden * r.directions + r.input;
  add("evaluation", kFloat * steps * batch * per_step);
}

void MemoryEstimate::add(const std::string& what, double bytes) { terms_.emplace_back(what, bytes); }

double MemoryEstimate::total() const {
  double sum = 0;
  for (const auto& t : terms_) sum += t.second;
  return sum;
}

std::string MemoryEstimate::breakdown() const {
  std::string s;
  for (const auto& [what, bytes] : terms_)
    if (bytes >= 0.05 * 1024 * 1024) s += (s.empty() ? "" : ", ") + what + " " + bytes_text(bytes);
  return s;
}

std::string bytes_text(double bytes) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB"};
  std::size_t u = 0;
  while (bytes >= 1024 && u + 1 < std::size(units)) bytes /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} bytes", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

double parse_memory_size(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(v) || v < 0) return -1;
  std::string suffix;
  for (const char* p = end; *p; ++p) suffix += char(std::tolower(static_cast<unsigned char>(*p)));
  double scale = 1;
  if (!suffix.empty()) {
    const std::string letters = "kmgt";
    const std::size_t power = letters.find(suffix[0]);
    const std::string rest = suffix.substr(1);
    if (power == std::string::npos || !(rest.empty() || rest == "b" || rest == "ib")) return -1;
    scale = std::pow(1024.0, double(power + 1));
  }
  return v * scale;
}

CLI::Validator memory_size() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (parse_memory_size(s) < 0) return "'" + s + "' is not a size like 8G, 512M or 0 (no limit)";
        return "";
      },
      "SIZE");
}

double available_memory() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    double kib = 0;
    if (words >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

void check_memory(const Frame& frame, const MemoryEstimate& e) {
  const std::string& flag = frame.flags().max_memory;
  const double limit = flag.empty() ? available_memory() : parse_memory_size(flag);
  if (limit <= 0 || e.total() <= limit) return;  // 0: no limit (or none known)
  const std::string whose = flag.empty() ? "the memory this machine has available (MemAvailable in "
                                           "/proc/meminfo; --max-memory sets another limit)"
                                         : "--max-memory " + flag;
  throw UsageError(fmt::format("this run would need about {} ({}), more than the {} of {}; its size "
                               "comes from {}: make them smaller",
                               bytes_text(e.total()), e.breakdown(), bytes_text(limit), whose, e.drivers()));
}

}  // namespace tg::app

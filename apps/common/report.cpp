#include "apps/common/report.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/core.h>

#include "backend/blas.hpp"
#include "backend/tensor.hpp"
#include "checkpoint/atomic_file.hpp"

namespace tg::app {

Progress::Progress(std::size_t total, std::string unit)
    : total_(total), unit_(std::move(unit)), enabled_(isatty(STDERR_FILENO) == 1),
      start_(Clock::now()), last_(start_) {}

void Progress::update(std::size_t done, const std::string& extra) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (shown_ && now - last_ < std::chrono::milliseconds(100) && done < total_) return;
  last_ = now;
  shown_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? (done - start_done_) / elapsed : 0;
  const double eta = rate > 0 ? (total_ - done) / rate : 0;
  fmt::print(stderr, "\r\033[K  {}/{}  {:.1f} {}/s  ETA {}:{:02d}  {}", done, total_, rate, unit_,
             int(eta) / 60, int(eta) % 60, extra);
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && shown_) fmt::print(stderr, "\r\033[K");
  shown_ = false;
}

MetricsCsv::MetricsCsv(std::string path, std::vector<std::string> columns)
    : path_(std::move(path)), columns_(columns.size()) {
  for (std::size_t i = 0; i < columns.size(); ++i) content_ += (i ? "," : "") + columns[i];
  content_ += "\n";
  io::write_file_atomic(path_, content_);
}

void MetricsCsv::row(const std::vector<double>& values) {
  if (!enabled()) return;
  if (values.size() != columns_)
    throw Error("metrics row has " + std::to_string(values.size()) + " values for " +
                std::to_string(columns_) + " columns");
  for (std::size_t i = 0; i < values.size(); ++i) content_ += fmt::format("{}{:.6g}", i ? "," : "", values[i]);
  content_ += "\n";
  io::write_file_atomic(path_, content_);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void set_threads(int n) {
  if (n < 1) throw Error("--threads must be at least 1, got " + std::to_string(n));
  blas::set_num_threads(n);
}

}  // namespace tg::app

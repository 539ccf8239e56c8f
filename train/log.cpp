#include <tapegrad/train/log.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/io/atomic_file.hpp>

namespace tg::train {

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

MetricsCsv::MetricsCsv(std::string path, std::vector<std::string> columns, bool append,
                       double keep_until)
    : path_(std::move(path)), columns_(columns.size()) {
  std::string header;
  for (std::size_t i = 0; i < columns.size(); ++i) header += (i ? "," : "") + columns[i];
  header += "\n";
  std::ifstream in(path_, std::ios::binary);
  if (append && in) {
    content_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (content_.compare(0, header.size(), header) != 0)
      throw Error("metrics '" + path_ + "': its header is not '" + header.substr(0, header.size() - 1) +
                  "'; a resumed run appends to the CSV of its own run (give another --metrics)");
    std::string kept = header;
    std::istringstream rows(content_.substr(header.size()));
    for (std::string line; std::getline(rows, line);)
      if (!line.empty() && std::strtod(line.c_str(), nullptr) <= keep_until) kept += line + "\n";
    content_ = kept;
    io::write_file_atomic(path_, content_);
    return;
  }
  content_ = header;
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

}  // namespace tg::train

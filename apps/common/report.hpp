// What the apps show while they work: a progress line on a terminal, and
// metrics rows in a CSV file that a plot can read.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tg::app {

// "  1200/4000  312.4 steps/s  ETA 0:09  loss 0.4312" rewritten in place on
// stderr, at most 10 times a second, and only when stderr is a terminal (a
// log file gets the apps' periodic lines instead).
class Progress {
 public:
  Progress(std::size_t total, std::string unit);
  void update(std::size_t done, const std::string& extra = "");
  void finish();  // clears the line
  bool enabled() const { return enabled_; }

 private:
  using Clock = std::chrono::steady_clock;
  std::size_t total_;
  std::string unit_;
  bool enabled_;
  Clock::time_point start_, last_;
  std::size_t start_done_ = 0;
  bool shown_ = false;
};

// A CSV of metrics: the header first, one row per call; the whole file is
// rewritten atomically after every row, so it is always complete.
class MetricsCsv {
 public:
  MetricsCsv() = default;  // disabled: rows are dropped
  MetricsCsv(std::string path, std::vector<std::string> columns);
  void row(const std::vector<double>& values);
  bool enabled() const { return !path_.empty(); }

 private:
  std::string path_, content_;
  std::size_t columns_ = 0;
};

// Seconds since an arbitrary start, for timings in logs and CSVs.
double seconds_since(std::chrono::steady_clock::time_point start);

// Sets the threads BLAS may use; our own code is single-threaded. Throws
// tg::Error for n < 1.
void set_threads(int n);

}  // namespace tg::app

// What a training run shows while it works: a progress line on a terminal,
// and metrics rows in a CSV file that a plot can read.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tg::train {

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
// rewritten atomically after every row, so it is always complete. With
// `append` (a resumed run) an existing file keeps its rows up to `keep_until`
// in the first column (the step the run resumes from: rows a crashed run
// wrote after its last checkpoint are dropped) and must have the same header;
// otherwise the file is started afresh.
class MetricsCsv {
 public:
  MetricsCsv() = default;  // disabled: rows are dropped
  MetricsCsv(std::string path, std::vector<std::string> columns, bool append = false,
             double keep_until = 0);
  void row(const std::vector<double>& values);
  bool enabled() const { return !path_.empty(); }

 private:
  std::string path_, content_;
  std::size_t columns_ = 0;
};

// Seconds since an arbitrary start, for timings in logs and CSVs.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace tg::train

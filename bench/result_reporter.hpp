// Google Benchmark reporter that also prints the RESULT lines
// bench/torch/compare.py reads:
//   RESULT name=<name> impl=tapegrad <metric>=<value> ...
// Each benchmark registers how its time per iteration becomes a metric
// (milliseconds per sequence, microseconds per op...). The median over
// repetitions is reported when there are repetitions.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

namespace tg::bench {

struct Metric {
  std::string result_name;  // e.g. tape_chain_4
  std::string key;          // e.g. us_per_op
  double seconds_to_value;  // multiplier from seconds per iteration
};

inline std::map<std::string, Metric>& metrics() {
  static std::map<std::string, Metric> m;
  return m;
}

class ResultReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool single = run.repetitions <= 1 && run.run_type == Run::RT_Iteration;
      if (!single && run.aggregate_name != "median") continue;
      auto it = metrics().find(run.run_name.function_name);
      if (it == metrics().end()) continue;
      // Wall time, and CPU time of the same span (the machine is shared:
      // wall time includes waiting for a core).
      const double n = static_cast<double>(run.iterations);
      const double scale = it->second.seconds_to_value;
      std::printf("RESULT name=%s impl=tapegrad %s=%.4f cpu_%s=%.4f\n",
                  it->second.result_name.c_str(), it->second.key.c_str(),
                  run.real_accumulated_time / n * scale, it->second.key.c_str(),
                  run.cpu_accumulated_time / n * scale);
      std::fflush(stdout);
    }
  }
};

inline int run_main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ResultReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace tg::bench

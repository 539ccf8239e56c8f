// What imdb_lstm prints and reports: the model it built, the line per
// evaluation, the report's own sections (--report) and the RESULT line.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "apps/imdb_lstm/imdb_app.hpp"

namespace tg::imdb {

// "model: Embedding(...) -> LSTM(...) -> Linear(...); N parameters" and the
// model's summary table.
void describe_model(const Model& model, const Settings& settings, std::size_t vocab_rows,
                    std::FILE* out);

// The value of metric `name`; -1 when the evaluation has none (--eval).
double metric_value(const train::Metrics& metrics, const std::string& name);

// "  train acc 0.9334  test acc 0.8516"
std::string metrics_text(const train::Metrics& metrics);

// The protocol's line per evaluation: "epoch 3: train loss 0.2605  train acc
// 0.9334  test acc 0.8516  epoch time 29.5 s (75.4 ms/step)  [evaluation 20 s]".
// `since` is the previous row (or the start of this process's training).
std::string evaluation_line(const train::Row& row, const train::Row& since, std::size_t per_epoch,
                            double eval_seconds);

// The report's own sections (--report): what the run is, the first review,
// the accuracies per epoch, a few test reviews with their probability.
void add_report(train::Report& report, Model& model, const Settings& settings,
                const app::TrainingFlags& flags, const data::Imdb& data, const RunResult& result);

// The RESULT line compared by bench/torch/compare.py with
// bench/torch/imdb_twin.py's (name imdb_lstm, imdb_lstm2 for 2 layers).
std::string result_line(const Settings& settings, const app::Frame& frame, const RunResult& result);

}  // namespace tg::imdb

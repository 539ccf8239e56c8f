// The adding-problem app: options, evaluation and the training loop around
// the model of adding_model.hpp. Everything takes its settings as an
// argument, so the tests train and evaluate without the command line.
//
// Training: Adam, batches of fresh sequences from a generator seeded by
// --seed, gradients clipped to a global norm; every --eval-every steps the
// MSE on a fixed held-out set (the same 1000 sequences for every seed and
// cell), beside the MSE of always predicting 1.0 on that set.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "apps/adding_problem/adding_model.hpp"
#include "apps/common/guard.hpp"

namespace tg::adding {

struct Config {
  std::string cell = "lstm";    // rnn | lstm | gru
  std::size_t length = 50;      // steps per sequence
  std::size_t hidden = 64;
  std::size_t steps = 2000;     // training steps (0 with --load: evaluate only)
  std::size_t batch = 50;
  double lr = 3e-3;
  double clip = 1.0;            // global gradient norm; 0: no clipping
  std::size_t eval_every = 250; // 0: only at the end
  std::size_t eval_size = 1000; // held-out sequences
  std::size_t seed = 1;
  int threads = 1;
  std::string metrics, save, load;
  bool progress = true;         // progress line (shown only on a terminal)
};

// An option out of range: exit code 2 (apps/common/guard.hpp).
using UsageError = app::UsageError;

// argv -> Config, through apps/common/cli (--help, and malformed options,
// exit there); then validate(), which names the first bad setting.
Config parse_args(int argc, char** argv);
void validate(const Config& config);

// The held-out set: `count` sequences from a fixed seed, the same whatever
// --seed is, so runs can be compared.
Batch<float> held_out_set(std::size_t length, std::size_t count);

struct Evaluation {
  double mse = 0;       // of the model on the held-out set
  double baseline = 0;  // of always predicting 1.0 on the same set (about 1/6)
};

// Forward only, under no_grad; the tape is cleared afterwards.
Evaluation evaluate(const AddingModel<float>& model, Tape<float>& tape, const Batch<float>& set);

struct EvalPoint {
  std::size_t step = 0;
  double loss = 0;  // mean training loss since the previous evaluation
  Evaluation eval;
  double seconds = 0;  // elapsed since the start of training
};

struct RunResult {
  Config config;                  // as run: cell and hidden from the checkpoint with --load
  std::vector<EvalPoint> history; // one point per evaluation
  Evaluation final;               // after the last step
  double train_seconds = 0;
};

// Builds the model (from the checkpoint with --load), trains `steps` steps,
// evaluates, writes the metrics CSV and the checkpoint when asked. Log lines
// go to `log` (nullptr: silent). Throws tg::Error on a bad checkpoint.
RunResult run(const Config& config, std::FILE* log);

}  // namespace tg::adding

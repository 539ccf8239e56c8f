// The MNIST class assignment (docs/protocols.md section 3): an RNN reads each
// image one row per time step (28 steps of 28 pixels) and a Linear layer on
// its last hidden state scores the ten digits.
//
//   x (28, B, 28) -> Recurrent (rnn | lstm | gru, hidden H, L layers)
//                 -> h_T of the top layer (B, H) -> Linear H->10 -> logits (B, 10)
//   loss = mean softmax cross-entropy against the digit
//
// Training: Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), batches of 50 from an
// epoch-wise reshuffle of the training split, 4000 steps, evaluation on the
// whole test split every 500 steps. Everything here takes the data as an
// argument, so tests can train on a small synthetic split.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/common/guard.hpp"
#include "datasets/mnist.hpp"
#include "layers/linear.hpp"
#include "layers/recurrent.hpp"

namespace tg::mnist {

// Every setting of a run; the defaults are the protocol's.
struct Config {
  std::string cell = "rnn";      // rnn | lstm | gru
  std::size_t hidden = 128;
  std::size_t layers = 1;
  std::size_t steps = 4000;      // training steps of this run (more, after --load)
  std::size_t batch = 50;
  double lr = 1e-3;
  std::size_t eval_every = 500;  // 0: only at the end
  std::size_t seed = 1;
  int threads = 1;
  std::string init = "glorot";   // glorot (Glorot input, orthogonal recurrent) | torch
  std::string data;              // IDX folder; empty: the cache (fetched on first use)
  std::string save, load, metrics;
  bool progress = true;          // progress line (shown only on a terminal)
};

// An option out of range: exit code 2 (apps/common/guard.hpp).
using UsageError = app::UsageError;

// Parses argv into a Config. --help prints the usage and exits 0; a malformed
// option exits 2 (tg::app::Cli); a value out of range throws UsageError.
Config parse_args(int argc, char** argv);
// Throws UsageError naming the first bad setting.
void validate(const Config& config);

// The classifier. Parameters: "rnn.l0.fwd.weight_ih", ..., "head.weight",
// "head.bias".
class Model : public Module<float> {
 public:
  Model(Tape<float>& tape, CellType cell, std::size_t hidden, std::size_t layers,
        RecurrentInit init, Rng& rng);
  // x (28, B, 28) -> logits (B, 10).
  Var<float> forward(const Var<float>& x) const;
  void collect(const std::string& prefix, std::vector<NamedParameter<float>>& out) const override;

  Recurrent<float> rnn;
  Linear<float> head;
};

struct Evaluation {
  double loss = 0;      // mean cross-entropy over the split
  double accuracy = 0;  // fraction of argmax == label
  std::vector<int> predictions;  // one per image, in file order
};

// Forward only (no_grad), `chunk` images at a time, the tape cleared after
// each chunk.
Evaluation evaluate(const Model& model, Tape<float>& tape, const data::MnistSplit& split,
                    std::size_t chunk = 1000);

struct RunResult {
  Config config;                // as run: the model shape from the checkpoint with --load
  std::size_t first_step = 0;   // steps already done by a loaded checkpoint
  std::size_t last_step = 0;    // first_step + steps trained in this run
  double train_seconds = 0;     // wall time of the training steps (evaluation and batch assembly excluded)
  double train_cpu_seconds = 0; // process CPU time over the same spans
  double last_minibatch_loss = 0;
  Evaluation test;              // on the whole test split after the last step
  std::vector<int> first_labels;  // labels of the first 10 test images
};

// Builds the model (from the checkpoint's metadata with --load), trains
// `config.steps` steps, evaluates every `eval_every` steps and at the end,
// writes metrics and the checkpoint when asked. Log lines go to `log`
// (nullptr: silent). Throws tg::Error on bad data or checkpoints.
RunResult run(const Config& config, const data::Mnist& data, std::FILE* log);

// The model shape a checkpoint was saved with: cell, hidden, layers, init and
// step from its metadata (other fields of `base` kept). Throws tg::Error
// naming the file and the missing or bad key.
Config config_from_checkpoint(const std::string& path, Config base);

// The RESULT line compared by bench/torch/compare.py with
// bench/torch/mnist_twin.py's (name mnist_<cell>).
std::string result_line(const RunResult& result, double peak_mib);

// Peak resident set size of this process so far, in MiB (ru_maxrss / 1024).
double peak_mib();

}  // namespace tg::mnist

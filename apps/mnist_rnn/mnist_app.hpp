// The MNIST class assignment (docs/protocols.md section 3): an RNN reads each
// image one row per time step (28 steps of 28 pixels) and a Linear layer on
// its last hidden state scores the ten digits.
//
//   x (28, B, 28) -> Recurrent (rnn | lstm | gru, hidden H, L layers)
//                 -> h_T of the top layer (B, H) -> Linear H->10 -> logits (B, 10)
//   loss = mean softmax cross-entropy against the digit
//
// Training: Adam (betas 0.9/0.999, eps 1e-8; lr 2e-3 decayed to 0 over the
// run by a cosine, gradients clipped to global norm 1), batches of 50 from an
// epoch-wise reshuffle of the training split, 4000 steps, evaluation on the
// whole test split every 500 steps, through train::Trainer. The protocol's
// constant 1e-3 without clipping: --lr 1e-3 --schedule constant --clip 0. Everything here
// takes the data as an argument, so tests can train on a synthetic split.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "apps/common/frame.hpp"
#include "apps/common/session.hpp"
#include <tapegrad/datasets/mnist.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>

namespace tg::mnist {

// The app's own settings (the shared ones are in app::TrainingFlags); the
// defaults are the protocol's.
struct Settings {
  std::string cell = "rnn";      // rnn | lstm | gru
  std::size_t hidden = 128;
  std::size_t layers = 1;
  std::size_t batch = 50;
  double lr = 2e-3;
  std::string schedule = "cosine";  // constant | cosine (lr down to min_lr at the last step)
  double min_lr = 0;
  std::string init = "glorot";   // glorot (Glorot input, orthogonal recurrent) | torch
  bool own_data = false;         // --data holds IDX files of the user's own, read unchecked
};

// Registers the app's flags and the shared ones (protocol defaults) on `frame`.
void add_flags(app::Frame& frame, Settings& settings);

// Estimates the run's memory from the settings (apps/common/memory_budget.hpp)
// and throws app::UsageError when it exceeds --max-memory or, by default, the
// memory available (mnist_memory.cpp). Called before the data is read.
void check_memory(const Settings& settings, const app::Frame& frame);

// The classifier. Parameters: "rnn.l0.fwd.weight_ih", ..., "head.weight",
// "head.bias".
class Model : public Module<float> {
 public:
  Model(Tape<float>& tape, CellType cell, std::size_t hidden, std::size_t layers,
        RecurrentInit init, Rng& rng);
  // x (28, B, 28) -> logits (B, 10).
  Var<float> forward(const Var<float>& x) const;
  // PyTorch: rnn = nn.RNN/LSTM/GRU(28, H, num_layers=L), head = nn.Linear(H, 10);
  // logits = head(h_n[-1]).

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

struct RunResult : app::RunInfo {
  Evaluation test;  // on the whole test split after the last step
};

// Builds the model (settings already restored from a --load checkpoint by
// the frame), trains to the end the flags set (or only evaluates, with
// --eval-only), and logs to `log` (nullptr: silent). Under mpirun -np N each
// process trains on its share of every --batch and rank 0 alone logs,
// evaluates and saves (docs/distributed.md); the others return no test. Throws tg::Error on bad
// data or checkpoints, train::TrainingError when training goes non-finite.
RunResult run(const Settings& settings, const app::Frame& frame, const data::Mnist& data,
              std::FILE* log);

// The RESULT line compared by bench/torch/compare.py with
// bench/torch/mnist_twin.py's (name mnist_<cell>).
std::string result_line(const Settings& settings, const app::Frame& frame, const RunResult& result);

}  // namespace tg::mnist

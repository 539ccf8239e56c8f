// The memory a run will take, estimated from the model's shape, the batch
// and the sequence lengths before anything is allocated, and checked against
// --max-memory (default: the memory the machine has available). A run that
// would not fit stops at once (exit 2) with the estimate, the limit and the
// flags that size it, instead of paging for minutes and dying out of memory.
//
// The estimate is an upper bound of the peak resident memory (1.2-1.4x for
// lstm and gru, up to 2.7x for rnn, measured with mnist_rnn and
// adding_problem; docs/apps.md):
//
//   parameters       P x 16 bytes: weights, gradients, Adam's two moments
//   training         4 bytes x T x B x (k_cell x H x D x L + 3 x input)
//                    what the tape keeps for backward and the gradients
//                    backward makes: k_cell floats per step, sequence and
//                    unit of each layer and direction (rnn 4, lstm 14, gru 12;
//                    measured 2-3, 9-11, 9-10)
//   evaluation       4 bytes x T x C x ((G + 1 + L) x H x D + input), G the
//                    cell's gates: no tape; a layer's projection and states,
//                    every layer's outputs (measured 4.6, 6.1, 7.8 for lstm
//                    with 1, 2, 4 layers)
//   data, process    what the app adds (its data, 64 MB for the program)
//
//   MemoryEstimate e("--cell lstm --hidden 8192 --layers 64 --batch 50");
//   e.parameters(rnn.parameters() + head);
//   e.training(rnn, 28, batch);
//   e.evaluation(rnn, 28, 1000);
//   check_memory(frame, e);   // UsageError when over the limit
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace tg::app {

class Frame;

// A recurrent stack as the estimate sees it.
struct RecurrentShape {
  std::string cell = "lstm";  // rnn | lstm | gru
  double input = 0, hidden = 0, layers = 1, directions = 1;

  double gates() const;       // 1, 4, 3
  double parameters() const;  // weights and biases of every cell
};

class MemoryEstimate {
 public:
  // `drivers`: the flags that size the run, as the message will show them.
  explicit MemoryEstimate(std::string drivers);

  // Weights, their gradients and Adam's two moments (optimizer = false:
  // evaluation only, the weights alone).
  void parameters(double count, bool optimizer = true);
  // A training step over `batch` sequences of `steps` steps.
  void training(const RecurrentShape& rnn, double steps, double batch);
  // An evaluation chunk of `batch` sequences (no tape).
  void evaluation(const RecurrentShape& rnn, double steps, double batch);
  // Anything else, by name ("the data").
  void add(const std::string& what, double bytes);

  double total() const;
  const std::string& drivers() const { return drivers_; }
  // "parameters 1.2 GB, training 3.4 GB, ..."
  std::string breakdown() const;

 private:
  std::string drivers_;
  std::vector<std::pair<std::string, double>> terms_;
};

// "1.5 GB" (powers of 1024, as free and top print them).
std::string bytes_text(double bytes);

// --max-memory's values: a size in bytes with an optional suffix K, M, G, T
// (powers of 1024; "8G", "512MiB", "1.5g"), or 0 for no limit.
CLI::Validator memory_size();
// A --max-memory value in bytes (memory_size's syntax); -1 when it is not one.
double parse_memory_size(const std::string& text);
// MemAvailable of /proc/meminfo in bytes; 0 when it cannot be read.
double available_memory();

// Throws UsageError naming the estimate, its breakdown, the limit and the
// drivers when the estimate exceeds --max-memory (given) or, by default,
// the memory available. Prints nothing otherwise.
void check_memory(const Frame& frame, const MemoryEstimate& estimate);

}  // namespace tg::app

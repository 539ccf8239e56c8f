// The adding problem (Hochreiter & Schmidhuber 1997, "Long short-term
// memory", experiment 4): the data and the model. The walk-through is
// docs/writing_a_model.md.
//
// Each sequence has `length` steps; step t carries a pair (value_t, marker_t)
// with value_t ~ U[0, 1) and marker_t in {0, 1}. Exactly two steps are
// marked, one in the first half [0, length/2) and one in the second half
// [length/2, length). The target is the sum of the two marked values, so a
// model must keep the first marked value in its state across up to `length`
// steps of distractors. Always predicting 1.0 (the mean) scores an MSE of
// Var(U + U) = 1/6 = 0.167.
//
//   x (length, B, 2) -> Recurrent (rnn | lstm | gru, hidden H)
//                    -> h after the last step (B, H) -> h w + b -> (B, 1)
//   loss = mean squared error against the target (B, 1)
#pragma once

#include <cstdint>
#include <vector>

#include <tapegrad/layers/init.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/layers/torch_state.hpp>

namespace tg::adding {

// A batch of `count` sequences, time-major as the recurrent layer reads them.
template <class T>
struct Batch {
  Tensor<T> x;                      // (length, count, 2): value, marker
  Tensor<T> target;                 // (count, 1): the sum of the two marked values
  std::vector<std::size_t> first;   // the marked step in the first half, per sequence
  std::vector<std::size_t> second;  // the marked step in the second half
};

// Draws `count` sequences of `length` >= 2 steps from `rng` (tg::Error
// otherwise). The values are drawn in double and rounded to T, so a float
// and a double batch from the same seed hold the same draws.
template <class T>
Batch<T> make_batch(std::size_t length, std::size_t count, Rng& rng);

// Training batch number `step` (counted from 1 over the whole run) of the run
// seeded by `seed`: make_batch from a generator seeded by (seed, step) alone.
// Any batch is made without the ones before it, so a run resumed at step N
// trains on exactly the batches the uninterrupted run did, and the weights
// (seeded by `seed` too) draw from another stream.
template <class T>
Batch<T> batch_at(std::size_t length, std::size_t count, std::uint64_t seed, std::size_t step);

// The model: a recurrent layer from the library and a head written from
// primitive ops (it is what Linear(H, 1) computes). Parameters are tape
// leaves made in the constructor; forward() only composes ops, and the tape
// differentiates it. Templated on the scalar so that the tests can check its
// gradients in double.
template <class T>
struct AddingModel : Module<T> {
  AddingModel(Tape<T>& tape, CellType cell, std::size_t hidden, Rng& rng)
      : rnn(tape, recurrent_options(cell, hidden), rng),
        head_weight(tape.parameter(init::fan_in_uniform<T>(Shape{hidden, 1}, hidden, rng))),
        head_bias(tape.parameter(zeros<T>(Shape{1}))) {
    // Names for optimizers, checkpoints and gradcheck: "rnn.l0.fwd.weight_ih",
    // ..., "head.weight", "head.bias".
    this->register_module("rnn", rnn);
    this->register_parameter("head.weight", head_weight);
    this->register_parameter("head.bias", head_bias);
  }

  // x (length, B, 2) -> prediction (B, 1). With a mask (length, B) of 1 for
  // real steps and 0 for padding, each sequence is read up to its own end.
  Var<T> forward(const Var<T>& x, const Tensor<T>* mask = nullptr) const {
    RecurrentInput<T> in(x);
    if (mask) in.mask(*mask);
    Var<T> h = rnn.forward(in).last();          // (B, H): the state after the last real step
    return matmul(h, head_weight) + head_bias;  // (B, H) (H, 1) + (1) -> (B, 1)
  }

  // PyTorch (--export-torch): rnn = nn.LSTM/GRU/RNN(2, H), head =
  // nn.Linear(H, 1), whose weight (1, H) is ours transposed; the prediction
  // is head(h_n[-1]). The head is two bare parameters here (to show ops at
  // work), so the model says itself how they map.
  void collect_torch(const std::string& prefix, TorchState<T>& out) const override {
    rnn.collect_torch(prefix + "rnn.", out);
    out.add(prefix + "head.weight", head_weight, TorchLayout::Transposed);
    out.add(prefix + "head.bias", head_bias);
    out.describe(prefix + "head.", "nn.Linear(" + std::to_string(head_weight.shape()[0]) + ", 1)");
  }

  static RecurrentOptions recurrent_options(CellType cell, std::size_t hidden) {
    return RecurrentOptions(2, hidden)  // input (value, marker)
        .cell(cell)
        .return_sequences(false);  // the head reads only the final state
  }

  Recurrent<T> rnn;
  Var<T> head_weight;  // (H, 1)
  Var<T> head_bias;    // (1)
};

}  // namespace tg::adding

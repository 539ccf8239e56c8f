// Recurrent cells: the per-step equations, as compositions of tape ops.
// A cell's input part does not depend on the state, so Recurrent computes it
// for every step at once (project: one matmul over the whole sequence) and
// the step adds only the recurrent part.
//
// Shapes: x (T, B, in); projected input (T, B, G*H); state h, c (B, H).
#pragma once

#include <memory>
#include <optional>

#include <tapegrad/layers/activation.hpp>
#include <tapegrad/layers/module.hpp>

namespace tg {

template <class T>
struct State {
  Var<T> h;
  Var<T> c;  // cell state: LSTM only
};

// The same values as constants: no gradient flows back through them. For a
// state carried across batches (truncated BPTT), as PyTorch's h.detach().
template <class T>
State<T> detach(const State<T>& s) {
  auto constant = [](const Var<T>& v) { return v.defined() ? v.tape().constant(v.value()) : Var<T>(); };
  return {constant(s.h), constant(s.c)};
}
template <class T>
std::vector<State<T>> detach(const std::vector<State<T>>& states) {
  std::vector<State<T>> out;
  out.reserve(states.size());
  for (const State<T>& s : states) out.push_back(detach(s));
  return out;
}

// A cell is a module of its own too, used step by step as PyTorch's
// nn.LSTMCell is (a decoder):
//   State<float> s = decoder(x_t, s);      // x_t (B, in) -> s.h (B, H), s.c
//   State<float> s0 = decoder(x_0);        // from a state of zeros
template <class T>
class Cell : public Module<T> {
 public:
  // One step from the raw input x (B, in): project(x), then step.
  State<T> forward(const Var<T>& x, const State<T>& prev) const { return step(project(x), prev); }
  State<T> operator()(const Var<T>& x, const State<T>& prev) const { return forward(x, prev); }
  // The same from a state of zeros.
  State<T> forward(const Var<T>& x) const { return forward(x, zero_state(x)); }
  State<T> operator()(const Var<T>& x) const { return forward(x); }
  // Zeros (B, H) for h (and c), B the rows of x: constants on x's tape.
  State<T> zero_state(const Var<T>& x) const {
    if (x.dim() != 2)
      throw Error("cell: the input of one step is (batch, features); got shape " + shape_str(x.shape()));
    Shape s{x.shape()[0], hidden_size()};
    return {x.tape().constant(tg::zeros<T>(s)),
            has_cell_state() ? x.tape().constant(tg::zeros<T>(s)) : Var<T>()};
  }

  virtual std::size_t hidden_size() const = 0;
  virtual bool has_cell_state() const { return false; }
  // The one switch for speed: true runs a cell's fused step ops where its
  // settings allow them (fuses()), false the composed ops; the values are the
  // same to rounding and the tests compare both. RecurrentOptions::fused sets
  // it for every cell of a layer.
  bool fused = true;
  // Whether the steps run fused ops: `fused` and the cell's settings.
  virtual bool fuses() const { return false; }
  // x (..., in) -> the input part of every gate, (..., G*H).
  virtual Var<T> project(const Var<T>& x) const = 0;
  // One step: the projected input of this step (B, G*H) and the state.
  virtual State<T> step(const Var<T>& x_proj, const State<T>& prev) const = 0;
  // The step at time t of the projected sequence (T, B, G*H). Recurrent calls
  // this one; a cell may override it to read step t without a copy.
  virtual State<T> step_at(const Var<T>& projected, std::size_t t, const State<T>& prev) const {
    return step(select(projected, t), prev);
  }
  // The step over rows [first, first + prev.h rows) of a packed (N, G*H)
  // projection (Recurrent::forward_left_padded).
  virtual State<T> step_rows(const Var<T>& packed, std::size_t first, const State<T>& prev) const {
    return step(slice(packed, 0, first, first + prev.h.shape()[0]), prev);
  }
  // The step whose projected input is the rows `ids` (prev.h rows of them)
  // of a projected table, read in place (Recurrent's projected vocabulary).
  virtual State<T> step_gather(const Var<T>& table, const std::int64_t* ids, std::int64_t no_grad_index,
                               const State<T>& prev) const {
    return step(index_select(table, ids, Shape{prev.h.shape()[0]}, no_grad_index), prev);
  }
};

// How weights start. Glorot-uniform input weights, orthogonal recurrent
// weights and zero biases (the default, LSTM forget bias 1), or PyTorch's
// nn.RNN/LSTM/GRU init for like-for-like comparisons: every weight and bias
// U(-1/sqrt(H), 1/sqrt(H)), no forget bias; RNN and LSTM, which keep one bias
// where PyTorch has b_ih and b_hh, start it at the sum of two such draws.
enum class RecurrentInit { GlorotOrthogonal, Torch };

// Elman RNN:  h' = act(x W_ih + h W_hh + b)
//   W_ih (in, H)  W_hh (H, H)  b (H)
template <class T>
class RNNCell : public Cell<T> {
 public:
  RNNCell(Tape<T>& tape, std::size_t in, std::size_t hidden, Activation act, RecurrentInit init,
          Rng& rng);
  std::size_t hidden_size() const override { return weight_hh.shape()[0]; }
  Var<T> project(const Var<T>& x) const override;
  State<T> step(const Var<T>& x_proj, const State<T>& prev) const override;
  State<T> step_at(const Var<T>& projected, std::size_t t, const State<T>& prev) const override;
  State<T> step_rows(const Var<T>& packed, std::size_t first, const State<T>& prev) const override;
  State<T> step_gather(const Var<T>& table, const std::int64_t* ids, std::int64_t no_grad_index,
                       const State<T>& prev) const override;
  std::string describe() const override;  // "RNNCell(28, 128, nonlinearity='tanh')"
  void collect_torch(const std::string& prefix, TorchState<T>& out) const override;  // nn.RNNCell

  // With tanh: step_at and step_rows in one op, tanh_matmul_add.
  bool fuses() const override { return this->fused && activation == Activation::Tanh; }

  Var<T> weight_ih, weight_hh, bias;
  Activation activation;
};

// LSTM (gates in the order i, f, g, o along the 4H axis of one matmul):
//   [i f z o] = x W_ih + h W_hh + b            W_ih (in, 4H) W_hh (H, 4H) b (4H)
//   i = sigmoid(i + c p_i)   f = sigmoid(f + c p_f)     (peephole terms optional)
//   c' = f * c + i * g(z)
//   o = sigmoid(o + c' p_o)
//   h' = o * h_act(c')
// g and h_act are tanh by default; the lecture's example sets both to identity.
template <class T>
class LSTMCell : public Cell<T> {
 public:
  struct Options {
    Activation cell_activation = Activation::Tanh;    // g
    Activation output_activation = Activation::Tanh;  // h_act
    bool peephole = false;
    // Initial value of the forget gate's bias. Unset: 1 with GlorotOrthogonal;
    // with Torch, PyTorch's draw like every other bias (PyTorch sets none).
    std::optional<T> forget_bias;
    RecurrentInit init = RecurrentInit::GlorotOrthogonal;
  };
  LSTMCell(Tape<T>& tape, std::size_t in, std::size_t hidden, const Options& options, Rng& rng);
  // The default options but the initialisation, as the other cells take it.
  LSTMCell(Tape<T>& tape, std::size_t in, std::size_t hidden, RecurrentInit init, Rng& rng)
      : LSTMCell(tape, in, hidden, with_init(init), rng) {}
  std::size_t hidden_size() const override { return weight_hh.shape()[0]; }
  bool has_cell_state() const override { return true; }
  // The lstm_cell op: no peepholes, g and h_act tanh or identity.
  bool fuses() const override;
  Var<T> project(const Var<T>& x) const override;
  State<T> step(const Var<T>& x_proj, const State<T>& prev) const override;
  State<T> step_at(const Var<T>& projected, std::size_t t, const State<T>& prev) const override;
  State<T> step_rows(const Var<T>& packed, std::size_t first, const State<T>& prev) const override;
  State<T> step_gather(const Var<T>& table, const std::int64_t* ids, std::int64_t no_grad_index,
                       const State<T>& prev) const override;
  std::string describe() const override;  // "LSTMCell(28, 128)"
  void collect_torch(const std::string& prefix, TorchState<T>& out) const override;  // nn.LSTMCell

  Var<T> weight_ih, weight_hh, bias;
  Var<T> peep_i, peep_f, peep_o;  // (H) each, defined with peephole
  Options options;

 private:
  static Options with_init(RecurrentInit init) {
    Options o;
    o.init = init;
    return o;
  }
  State<T> from_gates(const Var<T>& gates, const State<T>& prev) const;
};

// GRU (PyTorch's formulation, gates r, z, n):
//   r = sigmoid(x W_ir + b_ir + h W_hr + b_hr)
//   z = sigmoid(x W_iz + b_iz + h W_hz + b_hz)
//   n = tanh(x W_in + b_in + r * (h W_hn + b_hn))
//   h' = (1 - z) * n + z * h
//   W_ih (in, 3H)  W_hh (H, 3H)  b_ih, b_hh (3H)
template <class T>
class GRUCell : public Cell<T> {
 public:
  GRUCell(Tape<T>& tape, std::size_t in, std::size_t hidden, RecurrentInit init, Rng& rng);
  std::size_t hidden_size() const override { return weight_hh.shape()[0]; }
  Var<T> project(const Var<T>& x) const override;
  State<T> step(const Var<T>& x_proj, const State<T>& prev) const override;
  // The gru_cell op at step_at.
  bool fuses() const override { return this->fused; }
  State<T> step_at(const Var<T>& projected, std::size_t t, const State<T>& prev) const override;
  std::string describe() const override;  // "GRUCell(28, 128)"
  void collect_torch(const std::string& prefix, TorchState<T>& out) const override;  // nn.GRUCell

  Var<T> weight_ih, weight_hh, bias_ih, bias_hh;
};

}  // namespace tg

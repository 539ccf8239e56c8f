#include <tapegrad/layers/cells.hpp>

#include <tapegrad/layers/init.hpp>

namespace tg {
namespace {

// Input weight (in, G*H) and recurrent weight (H, G*H) for G gates.
template <class T>
std::pair<Tensor<T>, Tensor<T>> gate_weights(std::size_t in, std::size_t h, std::size_t gates,
                                             RecurrentInit init, Rng& rng) {
  if (init == RecurrentInit::Torch)
    return {init::fan_in_uniform<T>(Shape{in, gates * h}, h, rng),
            init::fan_in_uniform<T>(Shape{h, gates * h}, h, rng)};
  Tensor<T> w_ih = Tensor<T>::from_shape(Shape{in, gates * h});
  // Glorot per gate: each gate is its own (in, H) map.
  for (std::size_t g = 0; g < gates; ++g) {
    Tensor<T> block = init::glorot_uniform<T>(in, h, rng);
    for (std::size_t i = 0; i < in; ++i)
      std::copy_n(block.data() + i * h, h, w_ih.data() + i * gates * h + g * h);
  }
  return {std::move(w_ih), init::orthogonal<T>(h, gates * h, rng)};
}

// One bias of `size`. With the Torch init, a cell that keeps one bias where
// PyTorch has b_ih + b_hh (RNN, LSTM: `summed`) draws both and adds them, so
// the sum has PyTorch's distribution (triangular on (-2/sqrt(H), 2/sqrt(H))).
template <class T>
Tensor<T> gate_bias(std::size_t size, std::size_t fan, RecurrentInit init, Rng& rng,
                    bool summed = false) {
  if (init != RecurrentInit::Torch) return tg::zeros<T>(Shape{size});
  Tensor<T> b = init::fan_in_uniform<T>(Shape{size}, fan, rng);
  if (summed) b += init::fan_in_uniform<T>(Shape{size}, fan, rng);
  return b;
}

}  // namespace

// ---- RNN -------------------------------------------------------------------

template <class T>
RNNCell<T>::RNNCell(Tape<T>& tape, std::size_t in, std::size_t hidden, Activation act,
                    RecurrentInit init, Rng& rng)
    : activation(act) {
  auto [w_ih, w_hh] = gate_weights<T>(in, hidden, 1, init, rng);
  weight_ih = tape.parameter(std::move(w_ih));
  weight_hh = tape.parameter(std::move(w_hh));
  bias = tape.parameter(gate_bias<T>(hidden, hidden, init, rng, /*summed=*/true));
  this->register_parameter("weight_ih", weight_ih);
  this->register_parameter("weight_hh", weight_hh);
  this->register_parameter("bias", bias);
}

template <class T>
Var<T> RNNCell<T>::project(const Var<T>& x) const {
  return affine(x, weight_ih, bias);
}

template <class T>
State<T> RNNCell<T>::step(const Var<T>& x_proj, const State<T>& prev) const {
  return {activate(activation, matmul_add(x_proj, prev.h, weight_hh)), {}};
}

template <class T>
State<T> RNNCell<T>::step_at(const Var<T>& projected, std::size_t t, const State<T>& prev) const {
  if (fuses()) return {tanh_matmul_add(projected, t, prev.h, weight_hh), {}};
  return {activate(activation, matmul_add(projected, t, prev.h, weight_hh)), {}};
}

template <class T>
State<T> RNNCell<T>::step_rows(const Var<T>& packed, std::size_t first, const State<T>& prev) const {
  if (fuses()) return {tanh_matmul_add_rows(packed, first, prev.h, weight_hh), {}};
  return {activate(activation, matmul_add_rows(packed, first, prev.h, weight_hh)), {}};
}

template <class T>
State<T> RNNCell<T>::step_gather(const Var<T>& table, const std::int64_t* ids, std::int64_t no_grad_index,
                                 const State<T>& prev) const {
  return {activate(activation, matmul_add_gather(table, ids, prev.h, weight_hh, no_grad_index)), {}};
}


// ---- LSTM ------------------------------------------------------------------

template <class T>
LSTMCell<T>::LSTMCell(Tape<T>& tape, std::size_t in, std::size_t hidden, const Options& opt,
                      Rng& rng)
    : options(opt) {
  auto [w_ih, w_hh] = gate_weights<T>(in, hidden, 4, opt.init, rng);
  weight_ih = tape.parameter(std::move(w_ih));
  weight_hh = tape.parameter(std::move(w_hh));
  Tensor<T> b = gate_bias<T>(4 * hidden, hidden, opt.init, rng, /*summed=*/true);
  // PyTorch sets no forget bias: the Torch init keeps its draw unless asked.
  const bool set_forget = opt.forget_bias.has_value() || opt.init != RecurrentInit::Torch;
  if (set_forget) std::fill_n(b.data() + hidden, hidden, opt.forget_bias.value_or(T(1)));
  bias = tape.parameter(std::move(b));
  if (opt.peephole) {
    peep_i = tape.parameter(tg::zeros<T>(Shape{hidden}));
    peep_f = tape.parameter(tg::zeros<T>(Shape{hidden}));
    peep_o = tape.parameter(tg::zeros<T>(Shape{hidden}));
  }
  this->register_parameter("weight_ih", weight_ih);
  this->register_parameter("weight_hh", weight_hh);
  this->register_parameter("bias", bias);
  this->register_parameter("peep_i", peep_i);
  this->register_parameter("peep_f", peep_f);
  this->register_parameter("peep_o", peep_o);
}

template <class T>
Var<T> LSTMCell<T>::project(const Var<T>& x) const {
  return affine(x, weight_ih, bias);
}

template <class T>
bool LSTMCell<T>::fuses() const {
  auto simple = [](Activation a) { return a == Activation::Tanh || a == Activation::Identity; };
  return this->fused && !options.peephole && simple(options.cell_activation) &&
         simple(options.output_activation);
}

template <class T>
State<T> LSTMCell<T>::step(const Var<T>& x_proj, const State<T>& prev) const {
  return from_gates(matmul_add(x_proj, prev.h, weight_hh), prev);
}

template <class T>
State<T> LSTMCell<T>::step_at(const Var<T>& projected, std::size_t t, const State<T>& prev) const {
  return from_gates(matmul_add(projected, t, prev.h, weight_hh), prev);
}

template <class T>
State<T> LSTMCell<T>::step_rows(const Var<T>& packed, std::size_t first, const State<T>& prev) const {
  return from_gates(matmul_add_rows(packed, first, prev.h, weight_hh), prev);
}

template <class T>
State<T> LSTMCell<T>::step_gather(const Var<T>& table, const std::int64_t* ids, std::int64_t no_grad_index,
                                  const State<T>& prev) const {
  return from_gates(matmul_add_gather(table, ids, prev.h, weight_hh, no_grad_index), prev);
}

template <class T>
State<T> LSTMCell<T>::from_gates(const Var<T>& gates, const State<T>& prev) const {
  if (fuses()) {
    auto [h, c] = lstm_cell(gates, prev.c, options.cell_activation == Activation::Tanh,
                            options.output_activation == Activation::Tanh);
    return {h, c};
  }
  // The composed form: any activations, peepholes.
  std::vector<Var<T>> g = split(gates, 1, std::size_t(4));
  Var<T> i_pre = g[0], f_pre = g[1], o_pre = g[3];
  if (options.peephole) {
    i_pre = i_pre + prev.c * peep_i;
    f_pre = f_pre + prev.c * peep_f;
  }
  Var<T> c = sigmoid(f_pre) * prev.c + sigmoid(i_pre) * activate(options.cell_activation, g[2]);
  if (options.peephole) o_pre = o_pre + c * peep_o;
  Var<T> h = sigmoid(o_pre) * activate(options.output_activation, c);
  return {h, c};
}


// ---- GRU -------------------------------------------------------------------

template <class T>
GRUCell<T>::GRUCell(Tape<T>& tape, std::size_t in, std::size_t hidden, RecurrentInit init,
                    Rng& rng) {
  auto [w_ih, w_hh] = gate_weights<T>(in, hidden, 3, init, rng);
  weight_ih = tape.parameter(std::move(w_ih));
  weight_hh = tape.parameter(std::move(w_hh));
  bias_ih = tape.parameter(gate_bias<T>(3 * hidden, hidden, init, rng));
  bias_hh = tape.parameter(gate_bias<T>(3 * hidden, hidden, init, rng));
  this->register_parameter("weight_ih", weight_ih);
  this->register_parameter("weight_hh", weight_hh);
  this->register_parameter("bias_ih", bias_ih);
  this->register_parameter("bias_hh", bias_hh);
}

template <class T>
Var<T> GRUCell<T>::project(const Var<T>& x) const {
  return affine(x, weight_ih, bias_ih);
}

template <class T>
State<T> GRUCell<T>::step(const Var<T>& x_proj, const State<T>& prev) const {
  std::vector<Var<T>> xg = split(x_proj, 1, std::size_t(3));
  std::vector<Var<T>> hg = split(matmul(prev.h, weight_hh) + bias_hh, 1, std::size_t(3));
  Var<T> r = sigmoid(xg[0] + hg[0]);
  Var<T> z = sigmoid(xg[1] + hg[1]);
  Var<T> n = tanh(xg[2] + r * hg[2]);
  return {n + z * (prev.h - n), {}};  // (1 - z) n + z h
}

template <class T>
State<T> GRUCell<T>::step_at(const Var<T>& projected, std::size_t t, const State<T>& prev) const {
  if (!fuses()) return step(select(projected, t), prev);
  return {gru_cell(projected, t, affine(prev.h, weight_hh, bias_hh), prev.h), {}};
}


namespace {
std::string sizes(const char* kind, std::size_t in, std::size_t hidden) {
  return std::string(kind) + "(input_size=" + std::to_string(in) + ", hidden_size=" + std::to_string(hidden);
}
}  // namespace

template <class T>
std::string RNNCell<T>::describe() const {
  return sizes("RNNCell", weight_ih.shape()[0], hidden_size()) +
         (activation == Activation::Tanh ? "" : std::string(", nonlinearity='") + activation_name(activation) + "'") +
         ")";
}
template <class T>
std::string LSTMCell<T>::describe() const {
  return sizes("LSTMCell", weight_ih.shape()[0], hidden_size()) + (options.peephole ? ", peephole=True" : "") + ")";
}
template <class T>
std::string GRUCell<T>::describe() const {
  return sizes("GRUCell", weight_ih.shape()[0], hidden_size()) + ")";
}

template class RNNCell<float>;
template class RNNCell<double>;
template class LSTMCell<float>;
template class LSTMCell<double>;
template class GRUCell<float>;
template class GRUCell<double>;

}  // namespace tg

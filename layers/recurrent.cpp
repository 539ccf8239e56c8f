#include <tapegrad/layers/recurrent.hpp>

#include <cmath>
#include <sstream>
#include <type_traits>

#include <fmt/format.h>

namespace tg {

CellType parse_cell_type(const std::string& name) {
  if (name == "rnn") return CellType::RNN;
  if (name == "lstm") return CellType::LSTM;
  if (name == "gru") return CellType::GRU;
  throw Error("unknown cell type '" + name + "' (expected rnn, lstm or gru)");
}

namespace {

template <class V>
[[noreturn]] void bad_option(const char* name, V value, const char* why) {
  std::ostringstream s;
  s << "RecurrentOptions: " << name << " " << value << " " << why;
  throw Error(s.str());
}

std::size_t positive(const char* name, std::size_t v) {
  if (v == 0) bad_option(name, v, "must be positive");
  return v;
}

}  // namespace

RecurrentOptions::RecurrentOptions(std::size_t input_size, std::size_t hidden_size)
    : input_size_(positive("input_size", input_size)),
      hidden_size_(positive("hidden_size", hidden_size)) {}

RecurrentOptions& RecurrentOptions::input_size(std::size_t v) {
  input_size_ = positive("input_size", v);
  return *this;
}

RecurrentOptions& RecurrentOptions::hidden_size(std::size_t v) {
  hidden_size_ = positive("hidden_size", v);
  return *this;
}

RecurrentOptions& RecurrentOptions::num_layers(std::size_t v) {
  num_layers_ = positive("num_layers", v);
  return *this;
}

RecurrentOptions& RecurrentOptions::dropout(double v) {
  if (!(v >= 0 && v < 1)) bad_option("dropout", v, "is not in [0, 1)");
  dropout_ = v;
  return *this;
}

RecurrentOptions& RecurrentOptions::forget_bias(std::optional<double> v) {
  if (v && !std::isfinite(*v)) bad_option("forget_bias", *v, "is not finite");
  forget_bias_ = v;
  return *this;
}

template <class T>
Var<T> RecurrentOutput<T>::last() const {
  const std::size_t top = final.size() - directions;
  if (directions == 1) return final[top].h;
  return concat<T>({final[top].h, final[top + 1].h}, 1);
}

namespace {

void check_options(const RecurrentOptions& opt) {
  // num_layers and dropout cannot be set invalid; a default-constructed
  // RecurrentOptions leaves the sizes at 0.
  if (opt.input_size() == 0 || opt.hidden_size() == 0)
    throw Error("Recurrent: input_size and hidden_size must be positive");
}

}  // namespace

template <class T>
Recurrent<T>::Recurrent(Tape<T>& tape, const RecurrentOptions& opt, Rng& rng,
                        const CellFactory<T>& make)
    : options(opt) {
  check_options(opt);
  for (std::size_t l = 0; l < opt.num_layers(); ++l)
    for (std::size_t d = 0; d < directions(); ++d) {
      const std::size_t in = l == 0 ? opt.input_size() : opt.hidden_size() * directions();
      cells_.push_back(make(tape, in, opt.hidden_size(), rng));
      if (!cells_.back() || cells_.back()->hidden_size() != opt.hidden_size())
        throw Error("Recurrent: the cell factory must return a cell of hidden size " +
                    std::to_string(opt.hidden_size()));
      cells_.back()->fused = opt.fused();
    }
  register_cells();
}

template <class T>
Recurrent<T>::Recurrent(Tape<T>& tape, const RecurrentOptions& opt, Rng& rng) : options(opt) {
  check_options(opt);
  for (std::size_t l = 0; l < opt.num_layers(); ++l)
    for (std::size_t d = 0; d < directions(); ++d) {
      const std::size_t in = l == 0 ? opt.input_size() : opt.hidden_size() * directions();
      switch (opt.cell()) {
        case CellType::RNN:
          cells_.push_back(std::make_unique<RNNCell<T>>(tape, in, opt.hidden_size(),
                                                        opt.activation(), opt.init(), rng));
          break;
        case CellType::LSTM: {
          typename LSTMCell<T>::Options o;
          o.cell_activation = opt.cell_activation();
          o.output_activation = opt.output_activation();
          o.peephole = opt.peephole();
          if (opt.forget_bias()) o.forget_bias = T(*opt.forget_bias());
          o.init = opt.init();
          cells_.push_back(std::make_unique<LSTMCell<T>>(tape, in, opt.hidden_size(), o, rng));
          break;
        }
        case CellType::GRU:
          cells_.push_back(
              std::make_unique<GRUCell<T>>(tape, in, opt.hidden_size(), opt.init(), rng));
          break;
      }
      cells_.back()->fused = opt.fused();
    }
  register_cells();
}

template <class T>
void Recurrent<T>::register_cells() {
  for (std::size_t l = 0; l < options.num_layers(); ++l)
    for (std::size_t d = 0; d < directions(); ++d)
      this->register_module("l" + std::to_string(l) + (d ? ".bwd" : ".fwd"), cell(l, d));
}

template <class T>
std::string Recurrent<T>::describe() const {
  const RecurrentOptions& o = options;
  static const char* kinds[] = {"RNN", "LSTM", "GRU"};
  std::string s = std::string(kinds[int(o.cell())]) + "(input_size=" + std::to_string(o.input_size()) +
                  ", hidden_size=" + std::to_string(o.hidden_size());
  if (o.num_layers() > 1) s += ", num_layers=" + std::to_string(o.num_layers());
  if (o.bidirectional()) s += ", bidirectional=True";
  if (o.batch_first()) s += ", batch_first=True";
  if (o.dropout() > 0) s += ", dropout=" + fmt::format("{}", o.dropout());
  if (o.cell() == CellType::RNN && o.activation() != Activation::Tanh)
    s += std::string(", nonlinearity='") + activation_name(o.activation()) + "'";
  if (o.cell() == CellType::LSTM) {
    if (o.peephole()) s += ", peephole=True";
    if (o.cell_activation() != Activation::Tanh)
      s += std::string(", cell_activation='") + activation_name(o.cell_activation()) + "'";
    if (o.output_activation() != Activation::Tanh)
      s += std::string(", output_activation='") + activation_name(o.output_activation()) + "'";
  }
  return s + ")";
}

template <class T>
Var<T> Recurrent<T>::run_direction(const Cell<T>& cell, const Var<T>& input, bool reverse,
                                   const std::vector<Tensor<T>>& step_masks, State<T>& state,
                                   bool keep_outputs) const {
  const std::size_t steps = input.shape()[0];
  const Var<T> projected = cell.project(input);  // all steps in one matmul
  std::vector<Var<T>> outputs(steps);
  Var<T> zero;
  if (!step_masks.empty() && keep_outputs) zero = input.tape().constant(tg::zeros<T>(Shape{1}));
  for (std::size_t k = 0; k < steps; ++k) {
    const std::size_t t = reverse ? steps - 1 - k : k;
    State<T> next = cell.step_at(projected, t, state);
    if (step_masks.empty()) {
      if (keep_outputs) outputs[t] = next.h;
    } else {
      // Padding: keep the old state, output zero.
      const Tensor<T>& m = step_masks[t];
      if (keep_outputs) outputs[t] = tg::where(m, next.h, zero);
      next.h = tg::where(m, next.h, state.h);
      if (next.c.defined()) next.c = tg::where(m, next.c, state.c);
    }
    state = next;
  }
  return keep_outputs ? stack(outputs, 0) : Var<T>();
}

template <class T>
bool Recurrent<T>::packs(const RecurrentInput<T>& in) const {
  // What the packing cannot share: a reverse direction (it meets the padding
  // last, from different states), initial states other than zero, and
  // per-row dropout masks between layers.
  const RecurrentOptions& o = options;
  return in.use_ == RecurrentInput<T>::Lengths::Pack && in.initial_.empty() && !o.bidirectional() &&
         !(this->is_training() && o.dropout() > 0 && o.num_layers() > 1);
}

template <class T>
RecurrentOutput<T> Recurrent<T>::forward(const RecurrentInput<T>& in) const {
  check(in);
  if (packs(in)) return packed_forward(in);
  if (in.projected_.defined())
    throw Error("Recurrent: a projected table is not for bidirectional layers, initial states or dropout "
                "between layers in training, nor masks (use ids into the table itself)");
  return general_forward(in);
}

template <class T>
void Recurrent<T>::check(const RecurrentInput<T>& in) const {
  const RecurrentOptions& o = options;
  const char* order = o.batch_first() ? "batch, time" : "time, batch";
  if (in.ids_ && in.ids_->dimension() != 2)
    throw Error("Recurrent: ids have shape " + shape_str(in.ids_->shape()) + "; expected (" + order + ")");
  if (in.projected_.defined()) {
    if (in.projected_.layer_ != this) throw Error("Recurrent: the projected table was made by another layer");
    if (in.projected_.sweeps_ != in.x_.tape().sweeps())
      throw Error("Recurrent: the projected table is stale: a backward ran since project_table(), and the "
                  "weights may have changed since (call project_table() again)");
  }
  const Var<T>& x = in.x_;
  const std::size_t rank = in.ids_ ? 2 : 3;
  const std::size_t width = x.dim() == rank ? x.shape()[rank - 1] : 0;
  if (!in.projected_.defined() && width != o.input_size())
    throw Error("Recurrent: " + std::string(in.ids_ ? "table" : "input") + " has shape " + shape_str(x.shape()) +
                "; expected (" + (in.ids_ ? "rows" : order) + ", " + std::to_string(o.input_size()) + ")");
  if (in.use_ == RecurrentInput<T>::Lengths::None) return;
  if (in.mask_) throw Error("Recurrent: both a mask and lengths given");
  const auto& dims = in.ids_ ? in.ids_->shape() : x.shape();
  const std::size_t steps = dims[o.batch_first() ? 1 : 0], batch = dims[o.batch_first() ? 0 : 1];
  if (in.lengths_.size() != batch)
    throw Error("Recurrent: " + std::to_string(in.lengths_.size()) + " lengths for a batch of " +
                std::to_string(batch));
  for (std::size_t b = 0; b < batch; ++b)
    if (in.lengths_[b] > steps)
      throw Error("Recurrent: length " + std::to_string(in.lengths_[b]) + " of row " + std::to_string(b) +
                  " is longer than the " + std::to_string(steps) + " steps");
}

template <class T>
ProjectedTable<T> Recurrent<T>::project_table(const Var<T>& table) const {
  if (table.dim() != 2 || table.shape()[1] != options.input_size())
    throw Error("Recurrent::project_table: table has shape " + shape_str(table.shape()) + "; expected (rows, " +
                std::to_string(options.input_size()) + ")");
  ProjectedTable<T> p;
  Tape<T>& tape = table.tape();
  // Under no_grad a leaf: it survives the tape.clear() after every chunk.
  p.rows_ = tape.recording() ? cell(0, 0).project(table) : tape.constant(cell(0, 0).project(table).value());
  p.layer_ = this;
  p.sweeps_ = tape.sweeps();
  return p;
}

// Per-step masks (B, 1), shared by every layer and direction; none unmasked.
template <class T>
std::vector<Tensor<T>> Recurrent<T>::step_masks(const RecurrentInput<T>& in, std::size_t steps,
                                                std::size_t batch) const {
  const RecurrentOptions& o = options;
  std::vector<Tensor<T>> masks;
  if (in.use_ == RecurrentInput<T>::Lengths::Mask) {
    for (std::size_t t = 0; t < steps; ++t) {
      Tensor<T> m = Tensor<T>::from_shape(Shape{batch, 1});
      for (std::size_t b = 0; b < batch; ++b) {
        const std::size_t len = in.lengths_[b], first = in.side_ == Padding::Left ? steps - len : 0;
        m(b, 0) = t >= first && t < first + len ? T(1) : T(0);
      }
      masks.push_back(std::move(m));
    }
    return masks;
  }
  const Tensor<T>* mask = in.mask_;
  if (!mask) return masks;
  const std::size_t rows = o.batch_first() ? batch : steps, cols = o.batch_first() ? steps : batch;
  const bool trailing_one = mask->dimension() == 3 && mask->shape()[2] == 1;
  if ((mask->dimension() != 2 && !trailing_one) || mask->shape()[0] != rows || mask->shape()[1] != cols)
    throw Error("Recurrent: mask has shape " + shape_str(mask->shape()) + "; expected " +
                shape_str(Shape{rows, cols}) + " (or " + shape_str(Shape{rows, cols, 1}) + ")");
  for (std::size_t t = 0; t < steps; ++t) {
    Tensor<T> m = Tensor<T>::from_shape(Shape{batch, 1});
    // Row-major either way: element (r, c) of (rows, cols) or (rows, cols, 1).
    for (std::size_t b = 0; b < batch; ++b)
      m(b, 0) = mask->data()[o.batch_first() ? b * cols + t : t * cols + b];
    masks.push_back(std::move(m));
  }
  return masks;
}

// The state layer and direction `index` starts from: the caller's, or zeros.
template <class T>
State<T> Recurrent<T>::initial_state(const RecurrentInput<T>& in, std::size_t index, const Var<T>& x,
                                     std::size_t batch) const {
  const Cell<T>& c = *cells_[index];
  const std::size_t H = options.hidden_size();
  State<T> state;
  if (in.initial_.empty()) {
    state.h = x.tape().constant(tg::zeros<T>(Shape{batch, H}));
    if (c.has_cell_state()) state.c = x.tape().constant(tg::zeros<T>(Shape{batch, H}));
    return state;
  }
  state = in.initial_[index];
  if (!state.h.defined() || to_shape(state.h.shape()) != Shape{batch, H} ||
      (c.has_cell_state() && (!state.c.defined() || to_shape(state.c.shape()) != Shape{batch, H})))
    throw Error("Recurrent: initial state " + std::to_string(index) + " must hold h" +
                (c.has_cell_state() ? " and c" : "") + " of shape " + shape_str(Shape{batch, H}));
  return state;
}

template <class T>
RecurrentOutput<T> Recurrent<T>::general_forward(const RecurrentInput<T>& in) const {
  const RecurrentOptions& o = options;
  const Var<T> x_in = in.ids_ ? index_select(in.x_, *in.ids_, in.no_grad_id_) : in.x_;
  Var<T> x = o.batch_first() ? transpose(x_in, {1, 0, 2}) : x_in;
  const std::size_t steps = x.shape()[0], batch = x.shape()[1], D = directions();
  const std::vector<Tensor<T>> masks = step_masks(in, steps, batch);
  if (!in.initial_.empty() && in.initial_.size() != o.num_layers() * D)
    throw Error("Recurrent: " + std::to_string(in.initial_.size()) + " initial states for " +
                std::to_string(o.num_layers() * D) + " (layers x directions)");

  RecurrentOutput<T> out;
  out.directions = D;
  Var<T> layer_input = x;
  for (std::size_t l = 0; l < o.num_layers(); ++l) {
    std::vector<Var<T>> direction_outputs;
    for (std::size_t d = 0; d < D; ++d) {
      State<T> state = initial_state(in, l * D + d, x, batch);
      // The top layer's sequence is built only when the caller wants it.
      const bool keep = o.return_sequences() || l + 1 < o.num_layers();
      direction_outputs.push_back(run_direction(cell(l, d), layer_input, d == 1, masks, state, keep));
      out.final.push_back(state);
    }
    if (!direction_outputs[0].defined()) break;  // top layer, final states only
    layer_input = D == 1 ? direction_outputs[0] : concat(direction_outputs, 2);
    if (this->is_training() && o.dropout() > 0 && l + 1 < o.num_layers()) {
      if (!in.rng_) throw Error("Recurrent: dropout between layers needs an Rng (RecurrentInput::rng)");
      layer_input = dropout(layer_input, T(o.dropout()), true, *in.rng_);
    }
  }
  if (o.return_sequences())
    out.output = o.batch_first() ? transpose(layer_input, {1, 0, 2}) : layer_input;
  return out;
}

template <class T, class Length>
Tensor<T> sequence_mask(const std::vector<Length>& lengths, std::size_t steps,
                        bool left_padded, bool batch_first) {
  const std::size_t batch = lengths.size();
  Tensor<T> m = tg::zeros<T>(batch_first ? Shape{batch, steps} : Shape{steps, batch});
  for (std::size_t b = 0; b < batch; ++b) {
    bool negative = false;
    if constexpr (std::is_signed_v<Length>) negative = lengths[b] < 0;
    if (negative || static_cast<std::size_t>(lengths[b]) > steps)
      throw Error("sequence_mask: length " + std::to_string(lengths[b]) + " of sequence " +
                  std::to_string(b) + " is not in [0, " + std::to_string(steps) + "]");
    const std::size_t len = static_cast<std::size_t>(lengths[b]);
    const std::size_t first = left_padded ? steps - len : 0;
    for (std::size_t t = first; t < first + len; ++t)
      (batch_first ? m(b, t) : m(t, b)) = T(1);
  }
  return m;
}

template struct RecurrentOutput<float>;
template struct RecurrentOutput<double>;
template class Recurrent<float>;
template class Recurrent<double>;
template Tensor<float> sequence_mask(const std::vector<std::size_t>&, std::size_t, bool, bool);
template Tensor<double> sequence_mask(const std::vector<std::size_t>&, std::size_t, bool, bool);
template Tensor<float> sequence_mask(const std::vector<int>&, std::size_t, bool, bool);
template Tensor<double> sequence_mask(const std::vector<int>&, std::size_t, bool, bool);

}  // namespace tg

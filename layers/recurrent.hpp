// Recurrent: a generic RNN / LSTM / GRU layer, stacked and optionally
// bidirectional, over padded batches of variable length. It only loops over
// time calling a cell's step; every gradient, through time and across layers,
// comes from the tape (BPTT is never written by hand).
//
//   x      (T, B, in)   or (B, T, in) with batch_first
//   mask   (T, B)       or (B, T): 1 for real steps, 0 for padding (optional)
//   output (T, B, D*H)  or (B, T, D*H); D = 2 when bidirectional
//   final  one State per layer and direction, index layer * D + direction
//
// Padded steps leave the state unchanged and output zeros, so each sequence's
// final state is the one after its own last real step, whatever side the
// padding is on, in either direction.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <tapegrad/layers/cells.hpp>

namespace tg {

enum class CellType { RNN, LSTM, GRU };
CellType parse_cell_type(const std::string& name);  // "rnn", "lstm", "gru"

// Built libtorch-style, each setter returning the options for chaining:
//
//   RecurrentOptions(28, 128).cell(CellType::GRU).num_layers(2).bidirectional(true)
//
// o.cell() reads an option, o.cell(CellType::GRU) sets it. The setters throw
// tg::Error naming the option and the value for what is never valid (a zero
// size or num_layers, dropout outside [0, 1), a non-finite forget_bias);
// Recurrent's constructor checks the sizes again, as a default-constructed
// RecurrentOptions leaves input_size and hidden_size at 0.
class RecurrentOptions {
 public:
  RecurrentOptions() = default;
  RecurrentOptions(std::size_t input_size, std::size_t hidden_size);

  CellType cell() const { return cell_; }
  RecurrentOptions& cell(CellType v) { cell_ = v; return *this; }
  std::size_t input_size() const { return input_size_; }
  RecurrentOptions& input_size(std::size_t v);  // >= 1
  std::size_t hidden_size() const { return hidden_size_; }
  RecurrentOptions& hidden_size(std::size_t v);  // >= 1
  std::size_t num_layers() const { return num_layers_; }
  RecurrentOptions& num_layers(std::size_t v);  // >= 1
  bool bidirectional() const { return bidirectional_; }
  RecurrentOptions& bidirectional(bool v) { bidirectional_ = v; return *this; }
  bool batch_first() const { return batch_first_; }
  RecurrentOptions& batch_first(bool v) { batch_first_ = v; return *this; }
  // On the outputs of every layer but the last, when training; in [0, 1).
  double dropout() const { return dropout_; }
  RecurrentOptions& dropout(double v);
  // RNN.
  Activation activation() const { return activation_; }
  RecurrentOptions& activation(Activation v) { activation_ = v; return *this; }
  // LSTM g.
  Activation cell_activation() const { return cell_activation_; }
  RecurrentOptions& cell_activation(Activation v) { cell_activation_ = v; return *this; }
  // LSTM h.
  Activation output_activation() const { return output_activation_; }
  RecurrentOptions& output_activation(Activation v) { output_activation_ = v; return *this; }
  // LSTM.
  bool peephole() const { return peephole_; }
  RecurrentOptions& peephole(bool v) { peephole_ = v; return *this; }
  // LSTM; unset (std::nullopt): 1, or none with init Torch. Finite when set.
  std::optional<double> forget_bias() const { return forget_bias_; }
  RecurrentOptions& forget_bias(std::optional<double> v);
  RecurrentInit init() const { return init_; }
  RecurrentOptions& init(RecurrentInit v) { init_ = v; return *this; }
  // Sets every cell's Cell::fused: the fused step ops where they apply.
  bool fused() const { return fused_; }
  RecurrentOptions& fused(bool v) { fused_ = v; return *this; }
  // false: the top layer's output sequence is not built (output stays
  // undefined) and only the final states are returned: for classifiers that
  // read last(), it saves gathering every step.
  bool return_sequences() const { return return_sequences_; }
  RecurrentOptions& return_sequences(bool v) { return_sequences_ = v; return *this; }

 private:
  CellType cell_ = CellType::LSTM;
  std::size_t input_size_ = 0;
  std::size_t hidden_size_ = 0;
  std::size_t num_layers_ = 1;
  bool bidirectional_ = false;
  bool batch_first_ = false;
  double dropout_ = 0;
  Activation activation_ = Activation::Tanh;
  Activation cell_activation_ = Activation::Tanh;
  Activation output_activation_ = Activation::Tanh;
  bool peephole_ = false;
  std::optional<double> forget_bias_;
  RecurrentInit init_ = RecurrentInit::GlorotOrthogonal;
  bool fused_ = true;
  bool return_sequences_ = true;
};

template <class T>
struct RecurrentOutput {
  Var<T> output;
  std::vector<State<T>> final;
  std::size_t directions = 1;
  // The top layer's final h, directions concatenated: (B, D*H).
  Var<T> last() const;
};

// Makes the cell of one layer and direction: how a user plugs a new cell
// into the stacked, bidirectional, masked machinery (docs/layers.md).
template <class T>
using CellFactory = std::function<std::unique_ptr<Cell<T>>(
    Tape<T>& tape, std::size_t input_size, std::size_t hidden_size, Rng& rng)>;

template <class T>
class Recurrent : public Module<T> {
 public:
  Recurrent(Tape<T>& tape, const RecurrentOptions& options, Rng& rng);
  // The same layer around cells of the user's own kind; options.cell() and the
  // cell-specific options are ignored.
  Recurrent(Tape<T>& tape, const RecurrentOptions& options, Rng& rng, const CellFactory<T>& make);

  // `initial`, when given, holds one State per layer and direction (h, and c
  // for LSTM, each (B, H)); otherwise (null, or an empty vector: a carried
  // state before its first batch) the state starts at zero. `rng` draws
  // the dropout masks between layers (needed only when dropout > 0 and
  // training).
  // The mask is (T, B), or (B, T) with batch_first; a trailing axis of 1,
  // (T, B, 1), is accepted too (a mask shaped to multiply the outputs).
  RecurrentOutput<T> forward(const Var<T>& x, const Tensor<T>* mask = nullptr,
                             const std::vector<State<T>>* initial = nullptr,
                             Rng* rng = nullptr) const;
  // The same with the mask and the initial states by value; a mask may be
  // a Var (its value is read: no gradient flows into a mask).
  RecurrentOutput<T> forward(const Var<T>& x, const Tensor<T>& mask,
                             const std::vector<State<T>>* initial = nullptr, Rng* rng = nullptr) const {
    return forward(x, &mask, initial, rng);
  }
  RecurrentOutput<T> forward(const Var<T>& x, const Var<T>& mask,
                             const std::vector<State<T>>* initial = nullptr, Rng* rng = nullptr) const {
    return forward(x, &mask.value(), initial, rng);
  }
  RecurrentOutput<T> forward(const Var<T>& x, const std::vector<State<T>>& initial, Rng* rng = nullptr) const {
    return forward(x, nullptr, &initial, rng);
  }
  RecurrentOutput<T> forward(const Var<T>& x, const Tensor<T>& mask, const std::vector<State<T>>& initial,
                             Rng* rng = nullptr) const {
    return forward(x, &mask, &initial, rng);
  }

  // The same as forward(x) without a mask, for left-padded batches whose
  // padding steps all hold one input vector (the embedding of a padding id;
  // checked, an error names the first row that differs): the padding still
  // runs through the cells, but the rows still in their padding share one
  // state, computed once per step (recurrent_packed.cpp). lengths[b]: row
  // b's real steps, the last ones. The work falls from T * B rows per step
  // to the real steps plus one row per step; values equal forward()'s, the
  // gradients too up to the order of summation. Bidirectional layers and
  // dropout between layers in training run forward() instead.
  RecurrentOutput<T> forward_left_padded(const Var<T>& x, const std::vector<std::size_t>& lengths,
                                         Rng* rng = nullptr) const;
  // The same where x already holds layer 0's projected input (T, B, G*H),
  // cell(0, 0).project of the real input: for inference over an embedding,
  // whose rows can be projected once per vocabulary instead of once per
  // token (half the products of an LSTM's forward). Unidirectional only.
  RecurrentOutput<T> forward_left_padded_projected(const Var<T>& projected,
                                                   const std::vector<std::size_t>& lengths) const;
  // Both from ids into a table instead of a sequence: the input of layer 0
  // is gathered row by row straight into the packed order (one copy, no
  // (T, B, F) sequence), and the padding check compares ids. ids (T, B), or
  // (B, T) with batch_first; no_grad_index as index_select's (a padding id
  // whose row gets no gradient).
  RecurrentOutput<T> forward_left_padded(const Var<T>& table, const Tensor<std::int64_t>& ids,
                                         const std::vector<std::size_t>& lengths,
                                         std::int64_t no_grad_index = -1, Rng* rng = nullptr) const;
  RecurrentOutput<T> forward_left_padded_projected(const Var<T>& projected_table,
                                                   const Tensor<std::int64_t>& ids,
                                                   const std::vector<std::size_t>& lengths) const;

  // "LSTM(input_size=28, hidden_size=128, num_layers=2)", with our options
  // PyTorch lacks (peephole=True) too.
  std::string describe() const override;
  // nn.RNN / nn.LSTM / nn.GRU names (weight_ih_l0, ..._reverse) and layouts;
  // throws for what PyTorch has no equivalent of (custom cells, peepholes,
  // activations other than PyTorch's). Defined in torch_io.cpp.
  void collect_torch(const std::string& prefix, TorchState<T>& out) const override;
  std::size_t directions() const { return options.bidirectional() ? 2 : 1; }
  Cell<T>& cell(std::size_t layer, std::size_t direction) const {
    return *cells_[layer * directions() + direction];
  }

  RecurrentOptions options;

 private:
  // Layer 0's input of a packed forward: a sequence x, or ids into a table;
  // `projected`: it is already cell(0, 0).project of the input.
  struct PackedInput {
    const Var<T>* x = nullptr;
    const Var<T>* table = nullptr;
    const Tensor<std::int64_t>* ids = nullptr;
    std::int64_t no_grad_index = -1;
    bool projected = false;
  };
  RecurrentOutput<T> packed_forward(const PackedInput& in, const std::vector<std::size_t>& lengths) const;
  Var<T> run_direction(const Cell<T>& cell, const Var<T>& input, bool reverse,
                       const std::vector<Tensor<T>>& step_masks, State<T>& state,
                       bool keep_outputs) const;
  void register_cells();  // as "l0.fwd", "l0.bwd", "l1.fwd", ...
  std::vector<std::unique_ptr<Cell<T>>> cells_;
};

// A (T, B) mask from per-sequence lengths: 1 on the first `len` steps, or on
// the last `len` steps when the batch is left-padded. Transposed with
// batch_first.
// Lengths may be any integer type (std::size_t, int).
template <class T, class Length = std::size_t>
Tensor<T> sequence_mask(const std::vector<Length>& lengths, std::size_t steps,
                        bool left_padded = false, bool batch_first = false);

}  // namespace tg

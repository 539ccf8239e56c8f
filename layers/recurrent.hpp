// Recurrent: a generic RNN / LSTM / GRU layer, stacked and optionally
// bidirectional, over padded batches of variable length. It only loops over
// time calling a cell's step; every gradient, through time and across layers,
// comes from the tape (BPTT is never written by hand).
//
//   x      (T, B, in)   or (B, T, in) with batch_first; or ids into a table
//   mask   (T, B)       or (B, T): 1 for real steps, 0 for padding (optional)
//   output (T, B, D*H)  or (B, T, D*H); D = 2 when bidirectional
//   final  one State per layer and direction, index layer * D + direction
//
// Masked (padded) steps leave the state unchanged and output zeros, so each
// sequence's final state is the one after its own last real step, whatever
// side the padding is on, in either direction. How a batch is described:
// layers/recurrent_input.hpp.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <tapegrad/layers/cells.hpp>
#include <tapegrad/layers/recurrent_input.hpp>

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
  // cell-specific options are ignored (fused is set, for cells that read it).
  Recurrent(Tape<T>& tape, const RecurrentOptions& options, Rng& rng, const CellFactory<T>& make);

  // One forward for every form of input (layers/recurrent_input.hpp): a
  // sequence (rnn.forward(x)), masked or not, or ids into a table or a
  // projected table, with initial states and an Rng for dropout. Unmasked
  // left padding given as lengths (left_padding_as_input) runs packed
  // (recurrent_packed.cpp) when nothing prevents it: one direction, zero
  // initial states, no dropout between layers in training; otherwise the
  // general loop, with the same values.
  RecurrentOutput<T> forward(const RecurrentInput<T>& in) const;

  // Layer 0's input projection of every row of `table` (rows, in), for
  // RecurrentInput::ids(projected, ids): under tape.no_grad() a constant that
  // survives clear(); recorded otherwise (gradients reach the table and layer
  // 0's input weights). Valid until the next backward on the tape (checked).
  ProjectedTable<T> project_table(const Var<T>& table) const;

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
  RecurrentOutput<T> general_forward(const RecurrentInput<T>& in) const;
  RecurrentOutput<T> packed_forward(const RecurrentInput<T>& in) const;  // recurrent_packed.cpp
  bool packs(const RecurrentInput<T>& in) const;
  void check(const RecurrentInput<T>& in) const;
  std::vector<Tensor<T>> step_masks(const RecurrentInput<T>& in, std::size_t steps, std::size_t batch) const;
  State<T> initial_state(const RecurrentInput<T>& in, std::size_t index, const Var<T>& x,
                         std::size_t batch) const;
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

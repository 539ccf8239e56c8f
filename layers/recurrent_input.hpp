// What Recurrent::forward reads: one description of a batch, so that one
// forward serves every form of input and picks the fast path itself.
//
//   rnn.forward(x)                                          // x (T, B, in), no padding
//   rnn.forward(RecurrentInput(x).mask(mask))               // padded steps skipped
//   rnn.forward(RecurrentInput(x).mask_lengths(lengths))    // the same, from lengths
//   rnn.forward(RecurrentInput<float>::ids(table, ids, pad).left_padding_as_input(lengths))
//   rnn.forward(RecurrentInput<float>::ids(rnn.project_table(table), ids).left_padding_as_input(lengths))
//   ... .initial(states).rng(rng)
//
// The description refers to the tensors it is given (ids, mask), as a view
// does: build it in the call, or keep them alive while it is used. Vars,
// a projected table, lengths and states it holds by value.
#pragma once

#include <cstdint>
#include <vector>

#include <tapegrad/layers/cells.hpp>

namespace tg {

template <class T>
class Recurrent;

// Which end of a row holds its padding.
enum class Padding { Right, Left };

// Layer 0's input projection of every row of a table (an embedding), made by
// Recurrent::project_table: a token's projection is looked up instead of
// computed, half an LSTM's forward products. It is valid only while the
// weights it was computed from are unchanged; forward checks that no backward
// ran on the tape since it was made (an optimizer step follows one) and throws
// otherwise. Weights loaded or edited by hand are not seen: project again.
template <class T>
class ProjectedTable {
 public:
  bool defined() const { return rows_.defined(); }
  const Var<T>& rows() const { return rows_; }  // (table rows, G*H)

 private:
  friend class Recurrent<T>;
  Var<T> rows_;
  const Recurrent<T>* layer_ = nullptr;  // whose layer 0 projected it
  std::uint64_t sweeps_ = 0;             // the tape's sweeps() when made
};

template <class T>
class RecurrentInput {
 public:
  // A sequence x: (T, B, in), or (B, T, in) with batch_first. Implicit, so
  // that rnn.forward(x) reads as it always has.
  RecurrentInput(const Var<T>& x) : x_(x) {}  // NOLINT(google-explicit-constructor)
  // Ids (T, B), or (B, T) with batch_first, into a table (rows, in): layer 0
  // reads table[ids]. Row `no_grad_id` (a padding id) gets no gradient, as
  // index_select's.
  static RecurrentInput ids(const Var<T>& table, const Tensor<std::int64_t>& ids,
                            std::int64_t no_grad_id = -1) {
    RecurrentInput in(table);
    in.ids_ = &ids;
    in.no_grad_id_ = no_grad_id;
    return in;
  }
  // Ids into a projected table (Recurrent::project_table): each step reads
  // its rows in place. Unidirectional, left_padding_as_input only.
  static RecurrentInput ids(const ProjectedTable<T>& table, const Tensor<std::int64_t>& ids) {
    RecurrentInput in(table.rows());
    in.ids_ = &ids;
    in.projected_ = table;
    return in;
  }
  static RecurrentInput ids(const Var<T>&, Tensor<std::int64_t>&&, std::int64_t = -1) = delete;
  static RecurrentInput ids(const ProjectedTable<T>&, Tensor<std::int64_t>&&) = delete;

  // Padded steps skipped: the state passes them unchanged, the output is zero
  // there. (T, B) (or (B, T)) of 1 (real) and 0 (padding), or (T, B, 1); a
  // Var's value is read (no gradient flows into a mask).
  RecurrentInput& mask(const Tensor<T>& m) { mask_ = &m; return *this; }
  RecurrentInput& mask(Tensor<T>&&) = delete;  // a temporary would be gone: name it
  RecurrentInput& mask(const Var<T>& m) {
    mask_var_ = m;
    mask_ = &mask_var_.value();
    return *this;
  }
  // The same mask from lengths: row b's real steps are its first lengths[b]
  // (Right) or its last (Left).
  RecurrentInput& mask_lengths(std::vector<std::size_t> lengths, Padding side = Padding::Right) {
    lengths_ = std::move(lengths);
    use_ = Lengths::Mask;
    side_ = side;
    return *this;
  }
  // Not masked: row b's first T - lengths[b] steps are padding that runs
  // through the cells as input (the IMDB protocol), every padded step holding
  // one vector (checked). The layer computes that padding once per step
  // instead of once per row (recurrent_packed.cpp); values equal those of the
  // plain sequence, gradients too up to the order of summation.
  RecurrentInput& left_padding_as_input(std::vector<std::size_t> lengths) {
    lengths_ = std::move(lengths);
    use_ = Lengths::Pack;
    return *this;
  }
  // One State per layer and direction (h, and c for LSTM, each (B, H));
  // none, or an empty vector (a carried state before its first batch): zeros.
  RecurrentInput& initial(std::vector<State<T>> states) {
    initial_ = std::move(states);
    return *this;
  }
  // Draws the dropout masks between layers (needed with dropout, training).
  RecurrentInput& rng(Rng& r) {
    rng_ = &r;
    return *this;
  }

 private:
  friend class Recurrent<T>;
  enum class Lengths { None, Mask, Pack };
  Var<T> x_;  // the sequence, or the table ids index
  const Tensor<std::int64_t>* ids_ = nullptr;
  std::int64_t no_grad_id_ = -1;
  ProjectedTable<T> projected_;  // defined: x_ is its rows
  const Tensor<T>* mask_ = nullptr;
  Var<T> mask_var_;
  std::vector<std::size_t> lengths_;
  Lengths use_ = Lengths::None;
  Padding side_ = Padding::Right;
  std::vector<State<T>> initial_;
  Rng* rng_ = nullptr;
};

}  // namespace tg

// Recurrent::forward_left_padded: the unmasked forward of left-padded
// batches, computing the padding once per step instead of once per row.
//
// Every row starts from the zero state, and while a row is in its padding it
// reads the same input as every other padded row (the caller's promise,
// checked here). So all rows still in padding at step t have one state. The
// rows are sorted by length, longest first; at step t the first A_t of them
// have begun and are computed each, the rest share one extra row. The packed
// sequence holds, step after step, those A_t (+ 1 shared) rows: about
// sum(lengths) + T rows instead of T * B. Rows that begin at step t take the
// shared state by an index_select, whose backward sums their gradients into
// the shared row: the gradient of the unpacked computation, summed in
// another order.
#include <tapegrad/layers/recurrent.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace tg {
namespace {

struct Packing {
  std::size_t steps = 0, batch = 0;
  std::vector<std::size_t> order;   // batch rows, longest first
  std::vector<std::size_t> rank;    // rank[b]: b's place in order
  std::vector<std::size_t> begun;   // A_t: rows whose real steps have begun at t
  std::vector<std::size_t> offset;  // first packed row of step t
  std::size_t rows = 0;
  bool shared(std::size_t t) const { return begun[t] < batch; }
  std::size_t count(std::size_t t) const { return begun[t] + (shared(t) ? 1 : 0); }
  // The packed row holding batch row b's state at step t.
  std::int64_t row_of(std::size_t t, std::size_t b) const {
    return std::int64_t(offset[t] + std::min(rank[b], begun[t]));
  }
};

Packing pack(const std::vector<std::size_t>& lengths, std::size_t steps) {
  Packing p;
  p.steps = steps;
  p.batch = lengths.size();
  p.order.resize(p.batch);
  std::iota(p.order.begin(), p.order.end(), std::size_t(0));
  std::stable_sort(p.order.begin(), p.order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  p.rank.resize(p.batch);
  for (std::size_t i = 0; i < p.batch; ++i) p.rank[p.order[i]] = i;
  for (std::size_t t = 0; t < steps; ++t) {
    std::size_t a = 0;
    while (a < p.batch && lengths[p.order[a]] >= steps - t) ++a;
    p.begun.push_back(a);
    p.offset.push_back(p.rows);
    p.rows += p.count(t);
  }
  return p;
}

// The packed rows of x (T, B, in) as indices into its (T*B, in) rows; throws
// where a padded row's input differs from the shared one.
template <class T>
std::vector<std::int64_t> input_rows(const Packing& p, const Tensor<T>& x) {
  const std::size_t in = x.shape()[2];
  std::vector<std::int64_t> idx;
  idx.reserve(p.rows);
  for (std::size_t t = 0; t < p.steps; ++t) {
    for (std::size_t i = 0; i < p.begun[t]; ++i) idx.push_back(std::int64_t(t * p.batch + p.order[i]));
    if (!p.shared(t)) continue;
    const std::size_t shared = t * p.batch + p.order[p.batch - 1];
    idx.push_back(std::int64_t(shared));
    for (std::size_t i = p.begun[t]; i + 1 < p.batch; ++i) {
      const std::size_t r = t * p.batch + p.order[i];
      if (std::memcmp(x.data() + r * in, x.data() + shared * in, in * sizeof(T)) != 0)
        throw Error("Recurrent::forward_left_padded: at step " + std::to_string(t) + " row " +
                    std::to_string(p.order[i]) + " is in its padding but its input differs from row " +
                    std::to_string(p.order[p.batch - 1]) +
                    "'s (padding steps must all hold the same input)");
    }
  }
  return idx;
}

// The state at step t from the state after step t - 1: rows that begin at t
// take the shared row's state.
template <class T>
Var<T> carry(const Packing& p, std::size_t t, const Var<T>& prev) {
  if (p.begun[t] == p.begun[t - 1]) return prev;
  std::vector<std::int64_t> idx(p.count(t));
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = std::int64_t(std::min(i, p.begun[t - 1]));
  return index_select(prev, idx.data(), Shape{idx.size()});
}

// Batch rows (in their original order) of a step's packed state.
template <class T>
Var<T> unpack_state(const Packing& p, std::size_t t, const Var<T>& s) {
  std::vector<std::int64_t> idx(p.batch);
  for (std::size_t b = 0; b < p.batch; ++b) idx[b] = p.row_of(t, b) - std::int64_t(p.offset[t]);
  return index_select(s, idx.data(), Shape{p.batch});
}

}  // namespace

template <class T>
RecurrentOutput<T> Recurrent<T>::forward_left_padded(const Var<T>& x_in,
                                                     const std::vector<std::size_t>& lengths,
                                                     Rng* rng) const {
  const RecurrentOptions& o = options;
  // What the packing cannot share: a reverse direction (it meets the padding
  // last, from different states) and per-row dropout masks between layers.
  if (o.bidirectional || (training && o.dropout > 0 && o.num_layers > 1)) {
    if (x_in.dim() == 3 && lengths.size() != x_in.shape()[o.batch_first ? 0 : 1])
      throw Error("Recurrent::forward_left_padded: " + std::to_string(lengths.size()) +
                  " lengths for a batch of " + std::to_string(x_in.shape()[o.batch_first ? 0 : 1]));
    return forward(x_in, nullptr, nullptr, rng);
  }
  return packed_forward(x_in, lengths, false);
}

template <class T>
RecurrentOutput<T> Recurrent<T>::forward_left_padded_projected(const Var<T>& projected,
                                                               const std::vector<std::size_t>& lengths) const {
  if (options.bidirectional || (training && options.dropout > 0 && options.num_layers > 1))
    throw Error("Recurrent::forward_left_padded_projected: not for bidirectional layers or dropout "
                "between layers in training (use forward_left_padded on the unprojected input)");
  return packed_forward(projected, lengths, true);
}

template <class T>
RecurrentOutput<T> Recurrent<T>::packed_forward(const Var<T>& x_in, const std::vector<std::size_t>& lengths,
                                                bool projected) const {
  const RecurrentOptions& o = options;
  // A projected input is (..., G*H), G gates: its width a multiple of H (a
  // wrong G fails in the first step, naming the shapes).
  const bool fits = x_in.dim() == 3 && (projected ? x_in.shape()[2] % o.hidden_size == 0 &&
                                                        x_in.shape()[2] > 0
                                                  : x_in.shape()[2] == o.input_size);
  if (!fits)
    throw Error("Recurrent: input has shape " + shape_str(x_in.shape()) + "; expected (" +
                (o.batch_first ? "batch, time, " : "time, batch, ") +
                (projected ? "G * " + std::to_string(o.hidden_size) + ") (layer 0's projected input)"
                           : std::to_string(o.input_size) + ")"));
  const Var<T> x = o.batch_first ? transpose(x_in, {1, 0, 2}) : x_in;
  const std::size_t steps = x.shape()[0], batch = x.shape()[1], H = o.hidden_size;
  if (lengths.size() != batch)
    throw Error("Recurrent::forward_left_padded: " + std::to_string(lengths.size()) +
                " lengths for a batch of " + std::to_string(batch));
  for (std::size_t b = 0; b < batch; ++b)
    if (lengths[b] > steps)
      throw Error("Recurrent::forward_left_padded: length " + std::to_string(lengths[b]) + " of row " +
                  std::to_string(b) + " is longer than the " + std::to_string(steps) + " steps");
  const Packing p = pack(lengths, steps);
  const std::vector<std::int64_t> rows = input_rows(p, x.value());
  Var<T> input = index_select(reshape(x, Shape{steps * batch, x.shape()[2]}), rows.data(),
                              Shape{rows.size()});

  RecurrentOutput<T> out;
  for (std::size_t l = 0; l < o.num_layers; ++l) {
    const Cell<T>& c = cell(l, 0);
    // (rows, G*H), every step at once
    const Var<T> proj = l == 0 && projected ? input : c.project(input);
    State<T> state;
    state.h = x.tape().constant(tg::zeros<T>(Shape{p.count(0), H}));
    if (c.has_cell_state()) state.c = x.tape().constant(tg::zeros<T>(Shape{p.count(0), H}));
    const bool keep = o.return_sequences || l + 1 < o.num_layers;
    std::vector<Var<T>> hs;
    for (std::size_t t = 0; t < steps; ++t) {
      if (t > 0) {
        state.h = carry(p, t, state.h);
        if (state.c.defined()) state.c = carry(p, t, state.c);
      }
      state = c.step_rows(proj, p.offset[t], state);
      if (keep) hs.push_back(state.h);
    }
    State<T> final;
    final.h = unpack_state(p, steps - 1, state.h);
    if (state.c.defined()) final.c = unpack_state(p, steps - 1, state.c);
    out.final.push_back(final);
    if (keep) input = concat(hs, 0);
  }
  if (o.return_sequences) {
    std::vector<std::int64_t> idx(steps * batch);
    for (std::size_t t = 0; t < steps; ++t)
      for (std::size_t b = 0; b < batch; ++b) idx[t * batch + b] = p.row_of(t, b);
    Var<T> seq = index_select(input, idx.data(), Shape{steps, batch});
    out.output = o.batch_first ? transpose(seq, {1, 0, 2}) : seq;
  }
  return out;
}

template RecurrentOutput<float> Recurrent<float>::forward_left_padded(
    const Var<float>&, const std::vector<std::size_t>&, Rng*) const;
template RecurrentOutput<double> Recurrent<double>::forward_left_padded(
    const Var<double>&, const std::vector<std::size_t>&, Rng*) const;
template RecurrentOutput<float> Recurrent<float>::forward_left_padded_projected(
    const Var<float>&, const std::vector<std::size_t>&) const;
template RecurrentOutput<double> Recurrent<double>::forward_left_padded_projected(
    const Var<double>&, const std::vector<std::size_t>&) const;

}  // namespace tg

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

// The packed rows as indices into the (T*B) rows of the input, time-major;
// throws where a padded row's input differs from the shared one
// (same(r, s): rows r and s hold the same input).
template <class Same>
std::vector<std::int64_t> input_rows(const Packing& p, Same same) {
  std::vector<std::int64_t> idx;
  idx.reserve(p.rows);
  for (std::size_t t = 0; t < p.steps; ++t) {
    for (std::size_t i = 0; i < p.begun[t]; ++i) idx.push_back(std::int64_t(t * p.batch + p.order[i]));
    if (!p.shared(t)) continue;
    const std::size_t shared = t * p.batch + p.order[p.batch - 1];
    idx.push_back(std::int64_t(shared));
    for (std::size_t i = p.begun[t]; i + 1 < p.batch; ++i)
      if (!same(t * p.batch + p.order[i], shared))
        throw Error("Recurrent::forward_left_padded: at step " + std::to_string(t) + " row " +
                    std::to_string(p.order[i]) + " is in its padding but its input differs from row " +
                    std::to_string(p.order[p.batch - 1]) +
                    "'s (padding steps must all hold the same input)");
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
  if (o.bidirectional() || (this->is_training() && o.dropout() > 0 && o.num_layers() > 1)) {
    if (x_in.dim() == 3 && lengths.size() != x_in.shape()[o.batch_first() ? 0 : 1])
      throw Error("Recurrent::forward_left_padded: " + std::to_string(lengths.size()) +
                  " lengths for a batch of " + std::to_string(x_in.shape()[o.batch_first() ? 0 : 1]));
    return forward(x_in, nullptr, nullptr, rng);
  }
  PackedInput in;
  in.x = &x_in;
  return packed_forward(in, lengths);
}

template <class T>
RecurrentOutput<T> Recurrent<T>::forward_left_padded(const Var<T>& table, const Tensor<std::int64_t>& ids,
                                                     const std::vector<std::size_t>& lengths,
                                                     std::int64_t no_grad_index, Rng* rng) const {
  if (options.bidirectional() || (this->is_training() && options.dropout() > 0 && options.num_layers() > 1))
    return forward_left_padded(index_select(table, ids, no_grad_index), lengths, rng);
  PackedInput in;
  in.table = &table;
  in.ids = &ids;
  in.no_grad_index = no_grad_index;
  return packed_forward(in, lengths);
}

template <class T>
RecurrentOutput<T> Recurrent<T>::forward_left_padded_projected(const Var<T>& projected,
                                                               const std::vector<std::size_t>& lengths) const {
  PackedInput in;
  in.x = &projected;
  in.projected = true;
  return packed_forward(in, lengths);
}

template <class T>
RecurrentOutput<T> Recurrent<T>::forward_left_padded_projected(const Var<T>& projected_table,
                                                               const Tensor<std::int64_t>& ids,
                                                               const std::vector<std::size_t>& lengths) const {
  PackedInput in;
  in.table = &projected_table;
  in.ids = &ids;
  in.projected = true;
  return packed_forward(in, lengths);
}

template <class T>
RecurrentOutput<T> Recurrent<T>::packed_forward(const PackedInput& in,
                                                const std::vector<std::size_t>& lengths) const {
  const RecurrentOptions& o = options;
  if (in.projected && (o.bidirectional() || (this->is_training() && o.dropout() > 0 && o.num_layers() > 1)))
    throw Error("Recurrent::forward_left_padded_projected: not for bidirectional layers or dropout "
                "between layers in training (use forward_left_padded on the unprojected input)");
  const Var<T>& source = in.x ? *in.x : *in.table;
  // A projected input is (..., G*H), G gates: its width a multiple of H (a
  // wrong G fails in the first step, naming the shapes).
  const std::size_t rank = in.x ? 3 : 2;
  const std::size_t width = source.dim() == rank ? source.shape()[rank - 1] : 0;
  const bool fits = in.projected ? width % o.hidden_size() == 0 && width > 0 : width == o.input_size();
  if (!fits)
    throw Error("Recurrent: " + std::string(in.x ? "input" : "table") + " has shape " +
                shape_str(source.shape()) + "; expected (" +
                (in.x ? (o.batch_first() ? "batch, time, " : "time, batch, ") : "rows, ") +
                (in.projected ? "G * " + std::to_string(o.hidden_size()) + ") (layer 0's projected input)"
                              : std::to_string(o.input_size()) + ")"));
  if (in.ids && in.ids->dimension() != 2)
    throw Error("Recurrent::forward_left_padded: ids have shape " + shape_str(in.ids->shape()) +
                "; expected (" + (o.batch_first() ? "batch, time" : "time, batch") + ")");
  const auto& dims = in.x ? in.x->shape() : in.ids->shape();
  const std::size_t steps = dims[o.batch_first() ? 1 : 0], batch = dims[o.batch_first() ? 0 : 1];
  const std::size_t H = o.hidden_size();
  if (lengths.size() != batch)
    throw Error("Recurrent::forward_left_padded: " + std::to_string(lengths.size()) +
                " lengths for a batch of " + std::to_string(batch));
  for (std::size_t b = 0; b < batch; ++b)
    if (lengths[b] > steps)
      throw Error("Recurrent::forward_left_padded: length " + std::to_string(lengths[b]) + " of row " +
                  std::to_string(b) + " is longer than the " + std::to_string(steps) + " steps");
  const Packing p = pack(lengths, steps);
  Var<T> input;
  std::vector<std::int64_t> table_rows;  // the packed rows' ids, for a projected table
  if (in.x) {
    const Var<T> x = o.batch_first() ? transpose(*in.x, {1, 0, 2}) : *in.x;
    const T* v = x.value().data();
    const std::vector<std::int64_t> rows = input_rows(p, [&](std::size_t r, std::size_t s) {
      return std::memcmp(v + r * width, v + s * width, width * sizeof(T)) == 0;
    });
    input = index_select(reshape(x, Shape{steps * batch, width}), rows.data(), Shape{rows.size()});
  } else {
    // One gather from the table: no (T, B, F) sequence is ever built.
    const std::int64_t* id = in.ids->data();
    auto id_at = [&](std::size_t r) {  // r: time-major row t * B + b
      const std::size_t t = r / batch, b = r % batch;
      return id[o.batch_first() ? b * steps + t : r];
    };
    std::vector<std::int64_t> rows = input_rows(
        p, [&](std::size_t r, std::size_t s) { return id_at(r) == id_at(s); });
    for (std::int64_t& r : rows) r = id_at(std::size_t(r));
    // A projected table is read in place by each step (Cell::step_gather).
    if (in.projected) table_rows = std::move(rows);
    else input = index_select(*in.table, rows.data(), Shape{rows.size()}, in.no_grad_index);
  }
  Tape<T>& tape = source.tape();

  RecurrentOutput<T> out;
  for (std::size_t l = 0; l < o.num_layers(); ++l) {
    const Cell<T>& c = cell(l, 0);
    // (rows, G*H), every step at once; none for rows read from a projected table
    const bool gather = l == 0 && in.projected && in.table;
    const Var<T> proj = gather ? Var<T>() : l == 0 && in.projected ? input : c.project(input);
    State<T> state;
    state.h = tape.constant(tg::zeros<T>(Shape{p.count(0), H}));
    if (c.has_cell_state()) state.c = tape.constant(tg::zeros<T>(Shape{p.count(0), H}));
    const bool keep = o.return_sequences() || l + 1 < o.num_layers();
    std::vector<Var<T>> hs;
    for (std::size_t t = 0; t < steps; ++t) {
      if (t > 0) {
        state.h = carry(p, t, state.h);
        if (state.c.defined()) state.c = carry(p, t, state.c);
      }
      state = gather ? c.step_gather(*in.table, table_rows.data() + p.offset[t], in.no_grad_index, state)
                     : c.step_rows(proj, p.offset[t], state);
      if (keep) hs.push_back(state.h);
    }
    State<T> final;
    final.h = unpack_state(p, steps - 1, state.h);
    if (state.c.defined()) final.c = unpack_state(p, steps - 1, state.c);
    out.final.push_back(final);
    if (keep) input = concat(hs, 0);
  }
  if (o.return_sequences()) {
    std::vector<std::int64_t> idx(steps * batch);
    for (std::size_t t = 0; t < steps; ++t)
      for (std::size_t b = 0; b < batch; ++b) idx[t * batch + b] = p.row_of(t, b);
    Var<T> seq = index_select(input, idx.data(), Shape{steps, batch});
    out.output = o.batch_first() ? transpose(seq, {1, 0, 2}) : seq;
  }
  return out;
}

#define TG_INSTANTIATE(T)                                                                         \
  template RecurrentOutput<T> Recurrent<T>::forward_left_padded(                                  \
      const Var<T>&, const std::vector<std::size_t>&, Rng*) const;                                \
  template RecurrentOutput<T> Recurrent<T>::forward_left_padded(                                  \
      const Var<T>&, const Tensor<std::int64_t>&, const std::vector<std::size_t>&, std::int64_t,   \
      Rng*) const;                                                                                 \
  template RecurrentOutput<T> Recurrent<T>::forward_left_padded_projected(                        \
      const Var<T>&, const std::vector<std::size_t>&) const;                                      \
  template RecurrentOutput<T> Recurrent<T>::forward_left_padded_projected(                        \
      const Var<T>&, const Tensor<std::int64_t>&, const std::vector<std::size_t>&) const;
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)
#undef TG_INSTANTIATE

}  // namespace tg

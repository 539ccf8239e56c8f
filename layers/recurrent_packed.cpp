// Recurrent's packed path: the unmasked forward of left-padded batches
// (RecurrentInput::left_padding_as_input), computing the padding once per
// step instead of once per row. In four pieces: pack (the row order),
// gather (layer 0's input in that order), run (one layer's steps) and
// unpack (final states and the output sequence in the batch's order).
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
        throw Error("Recurrent: at step " + std::to_string(t) + " row " +
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

// Layer 0's input in the packed order: rows of a sequence x, or of a table by
// id; or, for a projected table, only the ids (each step reads its rows in
// place, Cell::step_gather).
template <class T>
struct Gathered {
  Var<T> rows;                           // (packed rows, in)
  std::vector<std::int64_t> table_rows;  // the packed rows' ids into a projected table
};

template <class T>
Gathered<T> gather(const Packing& p, const Var<T>& x_in, bool batch_first) {
  const Var<T> x = batch_first ? transpose(x_in, {1, 0, 2}) : x_in;
  const std::size_t width = x.shape()[2];
  const T* v = x.value().data();
  const std::vector<std::int64_t> rows = input_rows(p, [&](std::size_t r, std::size_t s) {
    return std::memcmp(v + r * width, v + s * width, width * sizeof(T)) == 0;
  });
  return {index_select(reshape(x, Shape{p.steps * p.batch, width}), rows.data(), Shape{rows.size()}), {}};
}

// From ids: one gather from the table, no (T, B, F) sequence is ever built;
// the padding check compares ids.
template <class T>
Gathered<T> gather(const Packing& p, const Var<T>& table, const Tensor<std::int64_t>& ids,
                   std::int64_t no_grad_id, bool projected, bool batch_first) {
  const std::int64_t* id = ids.data();
  auto id_at = [&](std::size_t r) {  // r: time-major row t * B + b
    const std::size_t t = r / p.batch, b = r % p.batch;
    return id[batch_first ? b * p.steps + t : r];
  };
  std::vector<std::int64_t> rows =
      input_rows(p, [&](std::size_t r, std::size_t s) { return id_at(r) == id_at(s); });
  for (std::int64_t& r : rows) r = id_at(std::size_t(r));
  if (projected) return {Var<T>(), std::move(rows)};
  return {index_select(table, rows.data(), Shape{rows.size()}, no_grad_id), {}};
}

// One layer's steps over the packed rows, from `state`: each step reads rows
// [offset[t], offset[t] + count(t)) of the projection, or its ids' rows of a
// projected table. Returns every step's h when `keep`.
template <class T>
std::vector<Var<T>> run(const Cell<T>& c, const Packing& p, const Var<T>& projection,
                        const Var<T>* projected_table, const std::int64_t* table_rows, State<T>& state,
                        bool keep) {
  std::vector<Var<T>> hs;
  for (std::size_t t = 0; t < p.steps; ++t) {
    if (t > 0) {
      state.h = carry(p, t, state.h);
      if (state.c.defined()) state.c = carry(p, t, state.c);
    }
    state = projected_table ? c.step_gather(*projected_table, table_rows + p.offset[t], -1, state)
                            : c.step_rows(projection, p.offset[t], state);
    if (keep) hs.push_back(state.h);
  }
  return hs;
}

// Batch rows (in their original order) of a step's packed state.
template <class T>
Var<T> unpack_state(const Packing& p, std::size_t t, const Var<T>& s) {
  std::vector<std::int64_t> idx(p.batch);
  for (std::size_t b = 0; b < p.batch; ++b) idx[b] = p.row_of(t, b) - std::int64_t(p.offset[t]);
  return index_select(s, idx.data(), Shape{p.batch});
}

template <class T>
State<T> unpack_final(const Packing& p, const State<T>& state) {
  State<T> final;
  final.h = unpack_state(p, p.steps - 1, state.h);
  if (state.c.defined()) final.c = unpack_state(p, p.steps - 1, state.c);
  return final;
}

// The packed (rows, H) sequence as (T, B, H), or (B, T, H).
template <class T>
Var<T> unpack_sequence(const Packing& p, const Var<T>& rows, bool batch_first) {
  std::vector<std::int64_t> idx(p.steps * p.batch);
  for (std::size_t t = 0; t < p.steps; ++t)
    for (std::size_t b = 0; b < p.batch; ++b) idx[t * p.batch + b] = p.row_of(t, b);
  Var<T> seq = index_select(rows, idx.data(), Shape{p.steps, p.batch});
  return batch_first ? transpose(seq, {1, 0, 2}) : seq;
}

}  // namespace

template <class T>
RecurrentOutput<T> Recurrent<T>::packed_forward(const RecurrentInput<T>& in) const {
  const RecurrentOptions& o = options;
  const auto& dims = in.ids_ ? in.ids_->shape() : in.x_.shape();
  const Packing p = pack(in.lengths_, dims[o.batch_first() ? 1 : 0]);
  const bool projected = in.projected_.defined();
  Gathered<T> layer0 = in.ids_ ? gather(p, in.x_, *in.ids_, in.no_grad_id_, projected, o.batch_first())
                               : gather(p, in.x_, o.batch_first());
  Tape<T>& tape = in.x_.tape();
  RecurrentOutput<T> out;
  Var<T> input = layer0.rows;
  for (std::size_t l = 0; l < o.num_layers(); ++l) {
    const Cell<T>& c = cell(l, 0);
    const bool in_place = l == 0 && projected;  // no projection: rows read from the table
    const Var<T> projection = in_place ? Var<T>() : c.project(input);  // every step at once
    State<T> state;
    state.h = tape.constant(tg::zeros<T>(Shape{p.count(0), o.hidden_size()}));
    if (c.has_cell_state()) state.c = tape.constant(tg::zeros<T>(Shape{p.count(0), o.hidden_size()}));
    const bool keep = o.return_sequences() || l + 1 < o.num_layers();
    const std::vector<Var<T>> hs = run(c, p, projection, in_place ? &in.x_ : nullptr,
                                       layer0.table_rows.data(), state, keep);
    out.final.push_back(unpack_final(p, state));
    if (keep) input = concat(hs, 0);
  }
  if (o.return_sequences()) out.output = unpack_sequence(p, input, o.batch_first());
  return out;
}

template RecurrentOutput<float> Recurrent<float>::packed_forward(const RecurrentInput<float>&) const;
template RecurrentOutput<double> Recurrent<double>::packed_forward(const RecurrentInput<double>&) const;

}  // namespace tg

// The row-sparse exchange of an embedding's gradient under `mpirun -np 2`
// (part of test_data_parallel): the two ranks' shares reach different,
// overlapping rows of the table; sending only the union of those rows gives
// the dense exchange's result bit for bit.
#include <catch2/catch.hpp>

#include <bitset>
#include <cstring>

#include <fmt/core.h>

#include <tapegrad/layers/linear.hpp>
#include <tapegrad/parallel/data_parallel.hpp>
#include "tests/parallel/problem.hpp"

using namespace tg;
using test::max_abs_diff;

namespace {

constexpr std::size_t kVocab = 16, kLen = 5, kDim = 4;

// Token j of item k, 0 the padding id (on the left). Items 0-3 (rank 0's
// share of the batch 0..6) use rows 1-6, items 4-6 (rank 1's) rows 5-9; the
// others rows 1-12. Rows 13-15 are never used.
std::int64_t token(std::size_t k, std::size_t j) {
  if (j < k % 3) return 0;
  if (k < 4) return std::int64_t(1 + (k + j) % 6);
  if (k < 7) return std::int64_t(5 + (k + j) % 5);
  return std::int64_t(1 + (3 * k + j) % 12);
}

// problem.hpp's regression (its tape, head, targets and sampler; not its
// recurrent layer), the inputs now looked up in an embedding.
template <class T>
struct Embedded {
  test::Problem<T> p{};
  Embedding<T> embed{p.tape, kVocab, kDim, p.init, 0};
  Recurrent<T> rnn{p.tape,
                   RecurrentOptions(kDim, test::kHidden).cell(CellType::RNN).return_sequences(false),
                   p.init};
  Adam<T> adam{test::vars_of(named()), T(0.02)};

  std::vector<NamedParameter<T>> named() const {
    std::vector<NamedParameter<T>> out;
    for (auto& q : embed.named_parameters("embed.")) out.push_back(q);
    for (auto& q : rnn.named_parameters("rnn.")) out.push_back(q);
    for (auto& q : p.head.named_parameters("head.")) out.push_back(q);
    return out;
  }
  Var<T> loss(const std::vector<std::size_t>& items) {
    xt::xarray<std::int64_t> ids = xt::zeros<std::int64_t>({kLen, items.size()});
    Tensor<T> yb = Tensor<T>::from_shape({items.size(), 2});
    for (std::size_t b = 0; b < items.size(); ++b) {
      for (std::size_t j = 0; j < kLen; ++j) ids(j, b) = token(items[b], j);
      xt::view(yb, b, xt::all()) = xt::view(p.y, items[b], xt::all());
    }
    return mse(p.head(rnn.forward(embed(ids)).last()), p.tape.constant(std::move(yb)));
  }
  // This rank's share of `items` through `ddp`, forward and backward.
  void backward(parallel::DataParallel<T>& ddp, const std::vector<std::size_t>& items) {
    adam.zero_grad();
    p.tape.clear();
    p.tape.backward(ddp.loss(loss(ddp.shard(items))));
  }
  std::vector<T> grads() const { return test::flat(named(), true); }
  std::vector<T> weights() const { return test::flat(named(), false); }
};

bool same_bytes(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("row-sparse exchange: bit-identical to the dense one, the union batch's gradient",
          "[parallel][mpi][rows]") {
  Embedded<double> m;
  parallel::DataParallel<double> sparse(m.named(), &m.adam), dense(m.named(), &m.adam);
  dense.set_row_sparse(false);
  const std::vector<std::size_t> batch{0, 1, 2, 3, 4, 5, 6};
  m.adam.zero_grad();
  m.p.tape.backward(m.loss(batch));
  const std::vector<double> expected = m.grads();
  // The rows each rank's share reached: different, overlapping.
  m.backward(sparse, batch);
  std::uint64_t mine = 0;
  for (std::size_t r : m.embed.weight.grad_rows()->list) mine |= std::uint64_t(1) << r;
  const std::vector<std::uint64_t> all = parallel::allgather(mine);
  CHECK((all[0] & all[1]) != 0);
  CHECK((all[0] & ~all[1]) != 0);
  CHECK((all[1] & ~all[0]) != 0);
  CHECK((all[0] & 1) == 0);  // the padding row
  // The first exchange finds the table row-sparse on both ranks...
  sparse.average_gradients();
  CHECK(sparse.stats().rows_total == 0);
  // ...the next sends only the union of the rows.
  m.backward(sparse, batch);
  sparse.average_gradients();
  const std::vector<double> rows = m.grads();
  const parallel::CommStats& s = sparse.stats();
  CHECK(s.rows_total == kVocab);
  CHECK(s.rows_sent == std::bitset<64>(all[0] | all[1]).count());
  CHECK(s.mask_bytes == kVocab + 1);
  CHECK(s.bytes == s.elements * sizeof(double) + s.mask_bytes);
  m.backward(dense, batch);
  dense.average_gradients();
  CHECK(dense.stats().rows_total == 0);
  CHECK(dense.stats().elements == s.elements + (kVocab - s.rows_sent) * kDim);
  CHECK(same_bytes(rows, m.grads()));
  const double d = max_abs_diff(rows, expected);
  if (sparse.is_root())
    fmt::print("row-sparse exchange, float64: {} of {} embedding rows sent; the average differs from "
               "the union batch's gradient by {:.3g}\n", s.rows_sent, s.rows_total, d);
  CHECK(d < 1e-6);
  // Rows no rank reached (the padding row, 10-15) are exactly zero.
  for (std::size_t r : {0, 10, 13, 15}) CHECK(m.embed.weight.grad()(r, 1) == 0.0);
  CHECK(m.embed.weight.grad()(7, 1) != 0.0);  // reached by rank 1 only
}

TEST_CASE("row-sparse exchange: a table dense on one rank goes dense on both", "[parallel][mpi][rows]") {
  Embedded<double> m;
  parallel::DataParallel<double> sparse(m.named(), &m.adam), dense(m.named(), &m.adam);
  dense.set_row_sparse(false);
  const std::vector<std::size_t> batch{0, 1, 2, 3, 4, 5, 6};
  // Rank 1 adds a penalty on the whole table: its gradient is not rows alone.
  const auto step = [&](parallel::DataParallel<double>& ddp, bool penalty) {
    m.adam.zero_grad();
    m.p.tape.clear();
    Var<double> loss = m.loss(ddp.shard(batch));
    if (penalty && ddp.rank() == 1) loss = loss + 1e-3 * sum(square(m.embed.weight));
    m.p.tape.backward(ddp.loss(loss));
    ddp.average_gradients();
  };
  step(sparse, false);  // the table is a candidate from now on
  step(sparse, true);
  CHECK(sparse.stats().mask_bytes == kVocab + 1);
  CHECK(sparse.stats().rows_total == 0);  // sent dense
  const std::vector<double> got = m.grads();
  step(dense, true);
  CHECK(same_bytes(got, m.grads()));
  step(sparse, false);  // not a candidate any more: dense, no masks
  CHECK(sparse.stats().mask_bytes == 0);
}

TEST_CASE("row-sparse exchange: 20 steps bit-identical to the dense exchange and across ranks",
          "[parallel][mpi][rows]") {
  const auto train = [](bool row_sparse, parallel::CommStats* stats) {
    Embedded<double> m;
    train::Trainer<double> trainer(m.p.tape, m.named(), m.adam, m.p.options(20), 1);
    parallel::DataParallel<double> ddp(trainer, m.named(), m.adam);
    ddp.set_row_sparse(row_sparse);
    std::size_t in_sync = 0;
    trainer.on_step = [&](const train::Batch&, double) { in_sync += ddp.in_sync(); };
    trainer.fit([&](const train::Batch& b) { return ddp.loss(m.loss(ddp.shard(m.p.sampler.at(b.epoch, b.index)))); });
    CHECK(in_sync == 20);
    *stats = ddp.stats();
    return m.weights();
  };
  parallel::CommStats s, d;
  const std::vector<double> rows = train(true, &s), whole = train(false, &d);
  CHECK(same_bytes(rows, whole));
  CHECK(s.rows_sent < s.rows_total);
  CHECK(s.total_bytes < d.total_bytes);
  CHECK(d.rows_total == 0);
  std::vector<double> root = rows;
  parallel::broadcast(root.data(), root.size());
  CHECK(same_bytes(root, rows));
}

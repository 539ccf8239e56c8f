// Data parallelism in one process (every build): the shares of a global
// batch, and DataParallel as the identity -- the Trainer untouched, a
// single-process run bit for bit what it is without it.
#include <catch2/catch.hpp>

#include <numeric>

#include <tapegrad/parallel/data_parallel.hpp>
#include "tests/parallel/problem.hpp"

using namespace tg;

TEST_CASE("shares: contiguous, in rank order, sizes differ by at most one", "[parallel]") {
  for (std::size_t n : {0, 1, 2, 7, 50, 101})
    for (int size : {1, 2, 3, 4, 8}) {
      std::size_t next = 0, smallest = n, largest = 0;
      for (int r = 0; r < size; ++r) {
        const parallel::Range s = parallel::share_of(n, r, size);
        CHECK(s.begin == next);
        next += s.count;
        smallest = std::min(smallest, s.count);
        largest = std::max(largest, s.count);
        if (r > 0) CHECK(s.count <= parallel::share_of(n, r - 1, size).count);  // larger first
      }
      CHECK(next == n);
      CHECK(largest - smallest <= 1);
    }
  CHECK(parallel::share_of(7, 0, 2).count == 4);
  CHECK(parallel::share_of(7, 1, 2).begin == 4);
  CHECK_THROWS_AS(parallel::share_of(7, 2, 2), Error);
}

TEST_CASE("one process: DataParallel is the identity and leaves the Trainer alone", "[parallel]") {
  REQUIRE(parallel::size() == 1);
  test::Problem<double> plain, wrapped;
  train::Trainer<double> a(plain.tape, plain.named(), plain.adam, plain.options(12));
  train::Trainer<double> b(wrapped.tape, wrapped.named(), wrapped.adam, wrapped.options(12));
  parallel::DataParallel<double> ddp(b, wrapped.named(), wrapped.adam);
  CHECK(ddp.is_root());
  CHECK(!b.on_gradients);  // no hook installed
  std::vector<std::size_t> batch(9);
  std::iota(batch.begin(), batch.end(), 3);
  CHECK(ddp.shard(batch) == batch);
  a.fit([&](const train::Batch& s) { return plain.loss(plain.sampler.at(s.epoch, s.index)); });
  b.fit([&](const train::Batch& s) {
    return ddp.loss(wrapped.loss(ddp.shard(wrapped.sampler.at(s.epoch, s.index))));
  });
  CHECK(plain.weights() == wrapped.weights());
  CHECK(ddp.in_sync());
  CHECK(ddp.stats().allreduces == 0);
  CHECK(ddp.summary().empty());
}

// Data parallelism over MPI, run by the suite as `mpirun -np 2` (every rank
// runs every test case in the same order; checks never stop a rank early, so
// no rank is left waiting in a collective): the averaged gradient is the
// single-process gradient of the union batch, the ranks stay bit-identical,
// the state is broadcast from rank 0, and N=2 follows the N=1 trajectory.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstring>

#include <fmt/core.h>

#include <tapegrad/parallel/data_parallel.hpp>
#include "tests/parallel/problem.hpp"

using namespace tg;
using test::kBatch;
using test::max_abs_diff;
using test::Problem;

namespace {

// Batch 0 of epoch 0: 7 items, shares of 4 (rank 0) and 3 (rank 1).
std::vector<std::size_t> union_batch() { return {5, 2, 16, 0, 13, 1, 20}; }

// The same 20 steps through the Trainer: with `ddp` on this rank's share,
// else the whole global batch (N=1). Returns the parameters after each step's
// fingerprint check (`in_step`: steps at which every rank had the same
// parameters).
template <class T>
std::vector<T> train_20(bool ddp_on, std::size_t* in_step = nullptr, parallel::CommStats* stats = nullptr) {
  Problem<T> p;
  train::Trainer<T> trainer(p.tape, p.named(), p.adam, p.options(20), 1);
  if (!ddp_on) {
    trainer.fit([&](const train::Batch& b) { return p.loss(p.sampler.at(b.epoch, b.index)); });
    return p.weights();
  }
  parallel::DataParallel<T> ddp(trainer, p.named(), p.adam);
  if (in_step) trainer.on_step = [&](const train::Batch&, double) { *in_step += ddp.in_sync(); };
  trainer.fit([&](const train::Batch& b) { return ddp.loss(p.loss(ddp.shard(p.sampler.at(b.epoch, b.index)))); });
  if (stats) *stats = ddp.stats();
  return p.weights();
}

}  // namespace

TEST_CASE("the averaged gradient of 2 ranks is the gradient of the union batch", "[parallel][mpi]") {
  REQUIRE(parallel::size() == 2);
  Problem<double> p;
  parallel::DataParallel<double> ddp(p.named(), &p.adam);
  // One process, the whole batch.
  Var<double> whole = p.loss(union_batch());
  const double whole_loss = whole.item();
  p.tape.backward(whole);
  const std::vector<double> expected = p.grads();
  p.adam.zero_grad();
  p.tape.clear();
  // This rank's share, then the exchange.
  const std::vector<std::size_t> mine = ddp.shard(union_batch());
  CHECK(mine.size() == (ddp.rank() == 0 ? 4u : 3u));
  Var<double> loss = ddp.loss(p.loss(mine));
  p.tape.backward(loss);
  const std::vector<double> share = p.grads();
  const double own = max_abs_diff(share, expected);
  std::vector<double> unweighted = share;  // shares of 4 and 3 averaged as equals
  for (double& g : unweighted) g /= 2;
  parallel::allreduce_sum(unweighted.data(), unweighted.size());
  ddp.average_gradients();
  const double averaged = max_abs_diff(p.grads(), expected);
  if (ddp.is_root())
    fmt::print("gradient, float64: a rank's own share differs from the union batch's by {:.3g}; "
               "the average of the 2 ranks by {:.3g}\n", own, averaged);
  CHECK(own > 1e-3);  // the shares alone are far off: the test can fail
  CHECK(max_abs_diff(unweighted, expected) > 1e-4);  // and the weighting matters
  CHECK(averaged < 1e-6);
  CHECK(loss.item() == Approx(whole_loss).epsilon(1e-12));
  CHECK(ddp.stats().allreduces == 2);  // the loss and the gradients
  CHECK(ddp.stats().exchanges == 1);
  CHECK(ddp.summary().find("2 processes") == 0);
  CHECK(ddp.summary().find("summed at each of 1 steps") != std::string::npos);
}

TEST_CASE("a rank with an empty share counts for nothing", "[parallel][mpi]") {
  Problem<double> p;
  parallel::DataParallel<double> ddp(p.named(), &p.adam);
  Var<double> whole = p.loss({9});
  p.tape.backward(whole);
  const std::vector<double> expected = p.grads();
  p.adam.zero_grad();
  p.tape.clear();
  const std::vector<std::size_t> mine = ddp.shard({9});  // rank 1 gets item 9 with weight 0
  CHECK(mine == std::vector<std::size_t>{9});
  Var<double> loss = ddp.loss(p.loss(mine));
  p.tape.backward(loss);
  ddp.average_gradients();
  CHECK(max_abs_diff(p.grads(), expected) < 1e-12);
  CHECK(loss.item() == Approx(whole.item()).epsilon(1e-12));
}

TEST_CASE("parameters on both ranks stay bit-identical over 20 steps", "[parallel][mpi]") {
  std::size_t in_step = 0;
  parallel::CommStats stats;
  const std::vector<double> w = train_20<double>(true, &in_step, &stats);
  CHECK(in_step == 20);
  // The bytes themselves, compared across ranks.
  std::vector<double> root = w;
  parallel::broadcast(root.data(), root.size());
  CHECK(std::memcmp(root.data(), w.data(), w.size() * sizeof(double)) == 0);
  CHECK(stats.allreduces == 40);  // per step: the loss and the gradients
  CHECK(stats.bytes == stats.elements * sizeof(double));
}

TEMPLATE_TEST_CASE("N=2 follows the N=1 trajectory up to summation order", "[parallel][mpi]", float, double) {
  const std::vector<TestType> two = train_20<TestType>(true), one = train_20<TestType>(false);
  const double d = max_abs_diff(two, one);
  if (parallel::is_root())
    fmt::print("after 20 Adam steps, {}: max |w(N=2) - w(N=1)| = {:.3g} ({} weights)\n",
               sizeof(TestType) == 4 ? "float32" : "float64", d, one.size());
  CHECK(d < (sizeof(TestType) == 4 ? 1e-4 : 1e-10));
}

TEST_CASE("rank 0's parameters, optimizer state and generator reach every rank", "[parallel][mpi]") {
  Problem<double> p;
  train::Options options = p.options(4);
  options.log = stdout;  // (nothing is trained: nothing is printed)
  train::Trainer<double> trainer(p.tape, p.named(), p.adam, options, 1);
  if (!parallel::is_root()) {  // another start, as after another checkpoint
    for (auto& v : p.params()) v.value() *= 3.0;
    for (auto& [name, t] : p.adam.state()) t->fill(0.5);
    trainer.rng().discard(5);
  }
  const double first_root = [&] {
    double w = p.params()[0].value()(0);
    parallel::broadcast(&w, 1);
    return w;
  }();
  parallel::DataParallel<double> ddp(trainer, p.named(), p.adam);
  CHECK(ddp.in_sync());
  CHECK(p.params()[0].value()(0) == first_root);
  double moment = 0;
  for (auto& [name, t] : p.adam.state()) moment += double(xt::sum(*t)());
  CHECK(moment == 0);  // rank 0's Adam has not stepped
  const std::uint64_t draw = trainer.rng()();
  CHECK(parallel::allgather(draw)[0] == parallel::allgather(draw)[1]);
  // Rank 0 alone keeps the Trainer's outputs.
  CHECK((trainer.options().log == stdout) == ddp.is_root());
}

TEST_CASE("ranks with different models refuse to start, all of them", "[parallel][mpi]") {
  Problem<double> p(parallel::is_root() ? 5 : 6);
  CHECK_THROWS_WITH(parallel::DataParallel<double>(p.named(), &p.adam),
                    Catch::Contains("rank 1 has another model"));
}

int main(int argc, char** argv) {
  parallel::Environment mpi(argc, argv);
  const int failed = Catch::Session().run(argc, argv);
  return parallel::all(failed == 0) ? 0 : 1;
}

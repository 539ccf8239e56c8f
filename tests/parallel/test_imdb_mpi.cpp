// imdb_lstm under `mpirun -np 2`, with its flags unchanged, on a small
// synthetic reviews file: rank 0 alone prints and saves (the checkpoint and
// its vocabulary); the run's checkpoint and metrics are those of a
// single-process run up to summation order (the evaluation shared between
// the ranks gives the same accuracies); a checkpoint goes from 2 ranks to 1
// and from 1 to 2.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <string>

#include "tests/apps/imdb_files.hpp"
#include "tests/parallel/mpi_runs.hpp"

using namespace tg;
using test::count;
using test::run_exe;

namespace {

const std::string kNp2 = std::string(MPIRUN_NP2) + " " + APP_EXE;

// 400 training and 400 test reviews; batches of 15: shares of 8 and 7.
struct Data {
  data::test::TmpDir dir;
  std::string reviews = test::write_reviews(dir.path(), 800, 11).string();
  test::Runs runs() const {
    // --protocol: no dropout, whose masks each rank draws for its own share.
    return test::Runs(kNp2, APP_EXE, [flags = "--data " + reviews +
                                    " --protocol --vocab 100 --maxlen 24 --embed 16 --hidden 16 --batch 15 --lr 1e-2 "
                                    "--seed 7 --eval-batch 64 --eval-every 10 --quiet "](
                               const std::string& more) { return flags + more; });
  }
};

// "checkpoint PATH at step N:  train acc X  test acc Y", from " at step" on,
// without the evaluation's time.
std::string evaluation_of(const std::string& out) {
  const std::size_t at = out.find(" at step ");
  REQUIRE(at != std::string::npos);
  return out.substr(at, out.find("[evaluation", at) - at);
}

}  // namespace

TEST_CASE("imdb_lstm under mpirun -np 2: rank 0 alone prints, and it is a single-process run",
          "[parallel][mpi][imdb]") {
  const Data d;
  const test::Runs runs = d.runs();
  const test::Exe two = runs.train(20);
  CHECK(count(two.out, "first training review") == 1);
  CHECK(count(two.out, "400 train / 400 test reviews") == 1);
  CHECK(count(two.out, "batch 15 over 2 processes") == 1);
  CHECK(count(two.out, "step 10 (epoch 1): train loss") == 1);
  CHECK(count(two.out, "RESULT name=imdb_lstm") == 1);
  CHECK(count(two.out, "2 processes: ") == 1);  // the exchange's figures
  CHECK(count(two.out, "saved ") == 1);

  // The same files as the single-process run's: tensors, settings, Trainer
  // state, vocabulary. The logged loss is the whole batch's; the accuracies
  // (columns 3 and 4), shared between the ranks, those of the whole splits.
  const double diff = runs.check_same({2, 3, 4}, 1e-5);
  fmt::print("imdb_lstm, 20 steps of 15 reviews, float32: max |w(np 2) - w(np 1)| = {:.3g}\n", diff);
  CHECK(data::test::read_file(runs.path("two.st.vocab")) == data::test::read_file(runs.path("one.st.vocab")));

  SECTION("the checkpoint of 2 ranks resumes in 1 process, and that of 1 process on 2 ranks") {
    runs.resume_across(20, 30, 1e-5);
  }

  SECTION("--eval-only on 2 ranks: the accuracies of one process, printed once") {
    const std::string flags = runs.flags("--load " + runs.path("one.st") + " --eval-only");
    const test::Exe e2 = run_exe(kNp2, flags), e1 = run_exe(APP_EXE, flags);
    INFO(e2.out + e2.err);
    REQUIRE(e2.code == 0);
    REQUIRE(e1.code == 0);
    CHECK(count(e2.out, "train acc") == 1);
    CHECK(evaluation_of(e2.out) == evaluation_of(e1.out));
  }
}

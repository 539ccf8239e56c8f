// slot_filling under `mpirun -np 2`, with its flags unchanged, on the
// built-in corpus: rank 0 alone prints, saves and scores the test split; with
// dropout off, the run's checkpoint (current and best-on-valid weights, the
// selection) and metrics are those of a single-process run up to summation
// order -- word dropout included, drawn on the whole batch -- and a
// checkpoint goes from 2 ranks to 1 and from 1 to 2.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <string>

#include "tests/parallel/mpi_runs.hpp"

using namespace tg;
using test::count;
using test::run_exe;

namespace {

const std::string kNp2 = std::string(MPIRUN_NP2) + " " + APP_EXE;
constexpr double kLearnt = 0.6;  // valid F1 after one epoch (1 process: 0.82; untrained: about 0)

// Batches of 11 sentences (shares of 6 and 5), their tokens weighted; word
// dropout at its default (0.05). Dropout draws each rank's masks from its
// own generator: off, so that the runs can be compared.
test::Runs runs() {
  return test::Runs(kNp2, APP_EXE, [](const std::string& more) {
            return "--embed 16 --hidden 24 --dropout 0 --batch 11 --seed 3 --eval-every 10 --quiet " + more;
          });
}

}  // namespace

TEST_CASE("slot_filling under mpirun -np 2: rank 0 alone prints, and it is a single-process run",
          "[parallel][mpi][slot_app]") {
  const test::Runs runs = ::runs();
  const test::Exe two = runs.train(20);
  CHECK(count(two.out, "data: built-in ticket-booking corpus") == 1);
  CHECK(count(two.out, "train: steps 1..20") == 1);
  CHECK(count(two.out, "best valid F1") == 1);
  CHECK(count(two.out, "test: precision") == 1);
  CHECK(count(two.out, "the lecture's sentences") == 1);
  CHECK(count(two.out, "2 processes: ") == 1);  // the exchange's figures
  CHECK(two.err.empty());

  // The same files as the single-process run's: weights (current and best),
  // settings, Trainer state, the best valid F1 and where it was. The logged
  // loss is the whole batch's (a mean over its tokens); the valid F1
  // (column 3), shared between the ranks, the whole split's. The tolerance
  // is rounding's: the CRF (the default) sums each shard's paths apart, and
  // Adam's normalised steps carry a last-bit difference on (1.5e-5 seen); a
  // wrong share weight would be off by 1e-3 and more.
  const double diff = runs.check_same({2, 3}, 5e-5);
  fmt::print("slot_filling, 20 steps of 11 sentences, float32: max |w(np 2) - w(np 1)| = {:.3g}\n", diff);
  CHECK(data::test::read_file(runs.path("two.st.vocab")) == data::test::read_file(runs.path("one.st.vocab")));
  CHECK(data::test::read_file(runs.path("two.st.tags")) == data::test::read_file(runs.path("one.st.tags")));

  SECTION("the checkpoint of 2 ranks resumes in 1 process, and that of 1 process on 2 ranks") {
    runs.resume_across(20, 30, 5e-5);
  }
}

TEST_CASE("slot_filling under mpirun -np 2, batches of 1 sentence: rank 1's share is empty",
          "[parallel][mpi][slot_app]") {
  // Rank 1 computes on the batch's sentence with weight 0: the run is the
  // single-process run.
  const test::Runs runs(kNp2, APP_EXE, [](const std::string& more) {
    return "--embed 16 --hidden 24 --dropout 0 --batch 1 --seed 3 --eval-every 10 --quiet " + more;
  });
  runs.train(20);
  const double diff = runs.check_same({2, 3}, 1e-5);
  fmt::print("slot_filling, 20 steps of 1 sentence, float32: max |w(np 2) - w(np 1)| = {:.3g}\n", diff);
}

TEST_CASE("slot_filling under mpirun -np 2 with dropout: it learns, and resumes in 1 process",
          "[parallel][mpi][slot_app]") {
  const data::test::TmpDir dir;
  const std::string st = (dir / "drop.st").string();
  // The built-in corpus's dropout (0.2): each rank draws its own share's
  // masks, another run than one process's, equally valid.
  const std::string flags = "--embed 16 --hidden 24 --seed 3 --quiet --save " + st;
  const test::Exe two = run_exe(kNp2, flags + " --epochs 1");
  INFO(two.out + two.err);
  REQUIRE(two.code == 0);
  const nlohmann::json meta = ckpt::read_meta(st);
  const double f1 = meta.at("trainer").at("early_stopping").at("best").get<double>();
  const std::size_t per_epoch = meta.at("trainer").at("step").get<std::size_t>();
  fmt::print("slot_filling, 1 epoch over 2 processes with dropout 0.2: best valid F1 {:.4f}\n", f1);
  CHECK(f1 > kLearnt);
  const test::Exe on_one = run_exe(APP_EXE, flags + " --epochs 2 --load " + st);
  INFO(on_one.out + on_one.err);
  REQUIRE(on_one.code == 0);
  CHECK(ckpt::read_meta(st).at("trainer").at("step") == 2 * per_epoch);
  CHECK(ckpt::read_meta(st).at("trainer").at("early_stopping").at("best").get<double>() >= f1);
}

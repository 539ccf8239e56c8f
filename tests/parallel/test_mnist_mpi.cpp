// mnist_rnn under `mpirun -np 2`, with its flags unchanged, on a tiny MNIST
// of noise (--own-data): rank 0 alone prints; the run's checkpoint and
// metrics are those of a single-process run up to summation order, and a
// checkpoint goes from 2 ranks to 1 and from 1 to 2.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <random>
#include <string>

#include <tapegrad/checkpoint/state.hpp>
#include "tests/apps/mnist_files.hpp"
#include "tests/parallel/mpi_runs.hpp"

using namespace tg;
using test::count;
using test::run_exe;

namespace {

const std::string kNp2 = std::string(MPIRUN_NP2) + " " + APP_EXE;

// 300 training and 40 test images of noise; batches of 11: shares of 6 and 5.
struct Data {
  data::test::TmpDir dir;
  Data() {
    std::mt19937 rng(5);
    test::write_mnist_split(dir.path(), "train", 300, rng);
    test::write_mnist_split(dir.path(), "t10k", 40, rng);
  }
  test::Runs runs() const {
    return test::Runs(kNp2, APP_EXE, [flags = "--data " + dir.path().string() +
                                    " --own-data --hidden 16 --batch 11 --eval-every 10 --seed 3 --quiet "](
                               const std::string& more) { return flags + more; });
  }
};

}  // namespace

TEST_CASE("mnist_rnn under mpirun -np 2: rank 0 alone prints, and it is a single-process run",
          "[parallel][mpi][mnist]") {
  const Data d;
  const test::Runs runs = d.runs();
  const test::Exe two = runs.train(20);
  CHECK(count(two.out, "MNIST: 300 train, 40 test images") == 1);
  CHECK(count(two.out, "model: rnn") == 1);
  CHECK(count(two.out, "batch 11 over 2 processes") == 1);
  CHECK(count(two.out, "step    10  epoch") == 1);
  CHECK(count(two.out, "RESULT name=mnist_rnn") == 1);
  CHECK(count(two.out, "2 processes: ") == 1);  // the exchange's figures

  // The same file as the single-process run's (tensors, settings, Trainer
  // state); the logged loss is the whole batch's on both.
  const double diff = runs.check_same({2}, 1e-4);
  fmt::print("mnist_rnn, 20 steps of 11 images, float32: max |w(np 2) - w(np 1)| = {:.3g}\n", diff);

  SECTION("the checkpoint of 2 ranks resumes in 1 process, and that of 1 process on 2 ranks") {
    runs.resume_across(20, 30, 1e-4);
  }
}

TEST_CASE("mnist_rnn under mpirun -np 2: help once, and a usage error ends every rank with 2",
          "[parallel][mpi][mnist]") {
  const test::Exe help = run_exe(kNp2, "--help");
  CHECK(help.code == 0);
  CHECK(count(help.out, "--batch") == 1);
  const test::Exe bad = run_exe(kNp2, "--cell lsmt");
  CHECK(bad.code == 2);
  CHECK(count(bad.err, "lsmt") >= 1);
}

// mnist_rnn under `mpirun -np 2`, with its flags unchanged, on a tiny MNIST
// of noise (--own-data): rank 0 alone prints; the run's checkpoint and
// metrics are those of a single-process run up to summation order, and a
// checkpoint goes from 2 ranks to 1 and from 1 to 2.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <tapegrad/checkpoint/state.hpp>
#include "tests/apps/app_exe.hpp"
#include "tests/apps/mnist_files.hpp"

using namespace tg;
using test::run_exe;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The largest difference between the two checkpoints' weights, after
// checking they hold the same tensors.
double max_weight_diff(const std::string& a, const std::string& b) {
  const Checkpoint x = load_safetensors(a), y = load_safetensors(b);
  REQUIRE(x.tensors.size() == y.tensors.size());
  double d = 0;
  for (const auto& [name, t] : x.tensors) {
    REQUIRE(y.tensors.count(name));
    const auto& u = y.tensors.at(name);
    REQUIRE(t.shape == u.shape);
    REQUIRE(t.dtype == u.dtype);
    REQUIRE(t.bytes.size() == u.bytes.size());
    const float* p = reinterpret_cast<const float*>(t.bytes.data());
    const float* q = reinterpret_cast<const float*>(u.bytes.data());
    for (std::size_t i = 0; i < t.bytes.size() / sizeof(float); ++i)
      d = std::max(d, double(std::abs(p[i] - q[i])));
  }
  return d;
}

// The CSV's loss column (the third).
std::vector<double> losses(const std::string& csv) {
  std::istringstream in(data::test::read_file(csv));
  std::vector<double> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (int i = 0; i < 3; ++i) std::getline(row, cell, ',');
    out.push_back(std::stod(cell));
  }
  return out;
}

struct Data {
  data::test::TmpDir dir;
  Data() {
    std::mt19937 rng(5);
    test::write_mnist_split(dir.path(), "train", 300, rng);
    test::write_mnist_split(dir.path(), "t10k", 40, rng);
  }
  // Batches of 11: shares of 6 and 5.
  std::string flags(const std::string& more) const {
    return "--data " + dir.path().string() + " --own-data --hidden 16 --batch 11 --eval-every 10 " +
           "--seed 3 --quiet " + more;
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

const std::string kNp2 = std::string(MPIRUN_NP2) + " " + MNIST_RNN_EXE;

}  // namespace

TEST_CASE("mnist_rnn under mpirun -np 2: rank 0 alone prints, and it is a single-process run",
          "[parallel][mpi][mnist]") {
  const Data d;
  const test::Exe two = run_exe(kNp2, d.flags("--steps 20 --save " + d.path("two.st") + " --metrics " +
                                                d.path("two.csv")));
  INFO(two.out + two.err);
  REQUIRE(two.code == 0);
  CHECK(count(two.out, "MNIST: 300 train, 40 test images") == 1);
  CHECK(count(two.out, "model: rnn") == 1);
  CHECK(count(two.out, "batch 11 over 2 processes") == 1);
  CHECK(count(two.out, "step    10  epoch") == 1);
  CHECK(count(two.out, "RESULT name=mnist_rnn") == 1);
  const test::Exe one = run_exe(MNIST_RNN_EXE, d.flags("--steps 20 --save " + d.path("one.st") +
                                                       " --metrics " + d.path("one.csv")));
  REQUIRE(one.code == 0);

  // The same file as the single-process run's: tensors, settings, Trainer state.
  CHECK(ckpt::read_meta(d.path("two.st")) == ckpt::read_meta(d.path("one.st")));
  const double diff = max_weight_diff(d.path("two.st"), d.path("one.st"));
  fmt::print("mnist_rnn, 20 steps of 11 images, float32: max |w(np 2) - w(np 1)| = {:.3g}\n", diff);
  CHECK(diff < 1e-4);
  // The logged loss is the whole batch's on both.
  const std::vector<double> l2 = losses(d.path("two.csv")), l1 = losses(d.path("one.csv"));
  REQUIRE(l2.size() == 2);
  REQUIRE(l1.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) CHECK(l2[i] == Approx(l1[i]).epsilon(1e-4));

  SECTION("the checkpoint of 2 ranks resumes in 1 process, and that of 1 process on 2 ranks") {
    const test::Exe on_one = run_exe(MNIST_RNN_EXE, d.flags("--steps 30 --load " + d.path("two.st") +
                                                            " --save " + d.path("two.st")));
    INFO(on_one.out + on_one.err);
    CHECK(on_one.code == 0);
    CHECK(count(on_one.out, "steps 21..30") == 1);
    const test::Exe on_two = run_exe(kNp2, d.flags("--steps 30 --load " + d.path("one.st") + " --save " +
                                                   d.path("one.st")));
    INFO(on_two.out + on_two.err);
    CHECK(on_two.code == 0);
    CHECK(count(on_two.out, "steps 21..30") == 1);
    CHECK(ckpt::read_meta(d.path("two.st")).at("trainer").at("step") == 30);
    CHECK(ckpt::read_meta(d.path("two.st")) == ckpt::read_meta(d.path("one.st")));
    CHECK(max_weight_diff(d.path("two.st"), d.path("one.st")) < 1e-4);
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

// Memory bounded before it is taken (issue 25 item 5): every app estimates
// its run from the model's shape, the batch and the sequence lengths, and a
// run over --max-memory (default: MemAvailable) stops at once, exit 2, with
// the estimate, the limit and the flags. The apps run under `ulimit -v`
// (1.5 GB of address space), so a run that allocated its model first would
// fail otherwise ("out of memory", exit 1) rather than page for minutes.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "apps/common/memory_budget.hpp"
#include "tests/apps/app_exe.hpp"
#include "tests/apps/mnist_files.hpp"

using Catch::Contains;
using tg::test::Exe;
namespace fs = std::filesystem;

namespace {

Exe bounded(const std::string& exe, const std::string& args) {
  return tg::test::run_exe("ulimit -v 1500000; " + exe, args + " --quiet </dev/null");
}

// A tiny MNIST of one's own: 1000 training and 1000 test images of noise.
void write_mnist(const fs::path& dir) {
  std::mt19937 rng(1);
  tg::test::write_mnist_split(dir, "train", 1000, rng);
  tg::test::write_mnist_split(dir, "t10k", 1000, rng);
}

// The estimate a refusal names ("would need about 1.2 GB"), in MiB.
double estimate_mib(const std::string& err) {
  const std::string key = "would need about ";
  const auto at = err.find(key);
  REQUIRE(at != std::string::npos);
  char* end = nullptr;
  const double v = std::strtod(err.c_str() + at + key.size(), &end);
  const std::string unit(end + 1, 2);
  return unit == "GB" ? v * 1024 : unit == "MB" ? v : unit == "TB" ? v * 1024 * 1024 : v / 1024;
}

}  // namespace

TEST_CASE("memory: the issue's commands stop at once with the estimate, the limit and the flags",
          "[apps][memory]") {
  const tg::data::test::TmpDir dir;
  write_mnist(dir.path());
  const std::string mnist_data = " --data " + dir.path().string() + " --own-data";
  struct Case {
    std::string exe, args, drivers;
  };
  const Case cases[] = {
      {MNIST_RNN_EXE, "--cell lstm --hidden 8192 --layers 64 --steps 1" + mnist_data,
       "--cell lstm --hidden 8192 --layers 64 --batch 50"},
      {SLOT_FILLING_EXE, "--hidden 4096 --embed 4096 --layers 16", "--hidden 4096 --embed 4096 --layers 16"},
      {ADDING_PROBLEM_EXE, "--hidden 8192 --length 10000 --batch 10000", "--hidden 8192 --length 10000 --batch 10000"},
      {IMDB_LSTM_EXE, "--hidden 8192 --embed 8192 --layers 64 --data " + (dir / "none.json").string(),
       "--hidden 8192 --embed 8192 --layers 64"},
  };
  for (const Case& c : cases) {
    INFO(c.exe << " " << c.args);
    const Exe r = bounded(c.exe, c.args + " --max-memory 8G");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("error: this run would need about") && Contains("more than the 8.0 GB of --max-memory 8G") &&
                          Contains(c.drivers) && Contains("weights, gradients and Adam's moments") &&
                          Contains("activations kept for backward"));
    // By default the limit is the memory available: every one of these
    // needs tens of GB at least.
    const Exe d = bounded(c.exe, c.args);
    CHECK(d.code == 2);
    CHECK_THAT(d.err, Contains("would need about") && Contains("MemAvailable"));
  }
}

TEST_CASE("memory: a normal run passes, and its estimate bounds its peak within 3x", "[apps][memory]") {
  const tg::data::test::TmpDir dir;
  write_mnist(dir.path());
  const std::string args =
      "--cell lstm --hidden 256 --layers 2 --batch 500 --steps 2 --eval-every 1 --data " + dir.path().string() +
      " --own-data";
  const Exe refused = bounded(MNIST_RNN_EXE, args + " --max-memory 1M");
  REQUIRE(refused.code == 2);
  CHECK_THAT(refused.err, Contains("more than the 1.0 MB of --max-memory 1M"));
  const double estimate = estimate_mib(refused.err);
  const Exe ran = bounded(MNIST_RNN_EXE, args);
  REQUIRE(ran.code == 0);
  const auto at = ran.out.find("peak_mib=");
  REQUIRE(at != std::string::npos);
  const double peak = std::strtod(ran.out.c_str() + at + 9, nullptr);
  INFO("estimate " << estimate << " MiB, peak " << peak << " MiB");
  CHECK(peak <= estimate);
  CHECK(estimate <= 3 * peak);
  // --max-memory 0: no limit.
  CHECK(bounded(MNIST_RNN_EXE, args + " --max-memory 0").code == 0);
}

TEST_CASE("memory: a sentence of 100000 tokens in a --data split is refused, never trained on", "[apps][memory]") {
  // Generated: an ATIS-layout folder whose test split holds one sentence of
  // 100,000 tokens on line 2 (training on it once took 4.3 GB).
  const tg::data::test::TmpDir dir;
  auto write = [&](const std::string& split, const std::string& in, const std::string& out, int lines) {
    fs::create_directories(dir / split);
    std::ofstream(dir / split / "seq.in") << in;
    std::ofstream(dir / split / "seq.out") << out;
    std::ofstream label(dir / split / "label");
    for (int i = 0; i < lines; ++i) label << "atis_flight\n";
  };
  std::string words, tags;
  for (int i = 0; i < 100000; ++i) words += "boston ", tags += "B-toloc ";
  for (const char* split : {"train", "valid"})
    write(split, "fly to boston\nshow flights to denver\n", "O O B-toloc\nO O O B-toloc\n", 2);
  write("test", "fly to boston\n" + words + "\n", "O O B-toloc\n" + tags + "\n", 2);
  const std::string data = "--data " + dir.path().string() + " --epochs 1";
  const Exe r = bounded(SLOT_FILLING_EXE, data);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("test/seq.in:2") && Contains("100000 tokens") && Contains("limit of 1000") &&
                        Contains("--max-length"));
  // Let through by --max-length, the memory estimate stops it instead.
  const Exe m = bounded(SLOT_FILLING_EXE, data + " --max-length 200000 --max-memory 8G");
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("would need about") && Contains("the longest sentence 100000 tokens"));
  // Sentences within the limit train.
  write("test", "fly to boston\nshow flights to denver\n", "O O B-toloc\nO O O B-toloc\n", 2);
  CHECK(bounded(SLOT_FILLING_EXE, data + " --max-length 4").code == 0);
}

TEST_CASE("memory: --max-memory takes sizes, another value is a usage error naming it", "[apps][memory]") {
  using tg::app::parse_memory_size;
  CHECK(parse_memory_size("0") == 0);
  CHECK(parse_memory_size("1000") == 1000);
  CHECK(parse_memory_size("8G") == 8.0 * (1 << 30));
  CHECK(parse_memory_size("512MiB") == 512.0 * (1 << 20));
  CHECK(parse_memory_size("1.5g") == 1.5 * (1 << 30));
  CHECK(parse_memory_size("2kb") == 2048);
  for (const char* bad : {"lots", "-1G", "8X", "", "1e999", "G"}) CHECK(parse_memory_size(bad) < 0);
  CHECK(tg::app::available_memory() > 0);  // Linux: /proc/meminfo
  const Exe r = bounded(MNIST_RNN_EXE, "--max-memory lots --steps 1");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("--max-memory") && Contains("lots"));
}

TEST_CASE("memory: the estimate's terms follow the shape", "[apps][memory]") {
  tg::app::RecurrentShape lstm{"lstm", 28, 128, 1, 1};
  CHECK(lstm.parameters() == (28 + 128) * 512 + 512);  // PyTorch's 4H x (in + H), one bias
  tg::app::RecurrentShape gru{"gru", 10, 8, 2, 2};
  CHECK(gru.parameters() == 2 * ((10 + 8) * 24 + 48 + (16 + 8) * 24 + 48));
  tg::app::MemoryEstimate small("a"), big("b");
  small.training(lstm, 28, 50);
  big.training(lstm, 56, 50);
  CHECK(big.total() > small.total());
  CHECK(tg::app::bytes_text(1536.0 * 1024 * 1024) == "1.5 GB");
}

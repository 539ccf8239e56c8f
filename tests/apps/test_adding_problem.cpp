// The adding-problem app (apps/adding_problem), the example of
// docs/writing_a_model.md: the generator, the model's gradients in double,
// masks, a short training run that only a learning model passes,
// checkpoints, the command line, and the tutorial's quotes of the code.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include <xtensor/xview.hpp>

#include "apps/adding_problem/adding_app.hpp"
#include "apps/common/model_io.hpp"
#include "tests/autograd/check.hpp"
#include "tests/datasets/tmpdir.hpp"  // TmpDir, read_file

using namespace tg;
using namespace tg::adding;
using tg::data::test::read_file;
namespace fs = std::filesystem;

namespace {

// Runs the executable; returns its exit code and what it wrote to stderr.
std::pair<int, std::string> run_exe(const std::string& args) {
  const std::string cmd = std::string(ADDING_PROBLEM_EXE) + " " + args + " 2>&1 >/dev/null";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  std::string err;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) err += buf;
  const int status = ::pclose(pipe);
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), err};
}

// Settings of the short training run: T = 10, a small LSTM, 600 steps.
Config short_run() {
  Config c;
  c.length = 10;
  c.hidden = 16;
  c.steps = 600;
  c.batch = 32;
  c.lr = 1e-2;
  c.eval_every = 0;
  c.eval_size = 500;
  c.progress = false;
  return c;
}

}  // namespace

TEST_CASE("adding problem: the generator: two markers, one per half, and their sum",
          "[apps][adding]") {
  const std::size_t length = GENERATE(2, 3, 10, 51);
  Rng rng(5);
  const Batch<float> b = make_batch<float>(length, 200, rng);
  REQUIRE(b.x.shape() == Shape{length, 200, 2});
  REQUIRE(b.target.shape() == Shape{200, 1});
  REQUIRE(b.first.size() == 200);
  REQUIRE(b.second.size() == 200);
  for (std::size_t i = 0; i < 200; ++i) {
    std::vector<std::size_t> marked;
    for (std::size_t t = 0; t < length; ++t) {
      const float v = b.x(t, i, 0), m = b.x(t, i, 1);
      REQUIRE((v >= 0.0f && v < 1.0f));
      REQUIRE((m == 0.0f || m == 1.0f));
      if (m == 1.0f) marked.push_back(t);
    }
    REQUIRE(marked.size() == 2);
    CHECK(marked[0] == b.first[i]);
    CHECK(marked[1] == b.second[i]);
    CHECK(marked[0] < length / 2);
    CHECK(marked[1] >= length / 2);
    CHECK(b.target(i, 0) == b.x(marked[0], i, 0) + b.x(marked[1], i, 0));
  }
  // Over 200 sequences the markers do not all sit at one place.
  if (length >= 10) CHECK(std::set<std::size_t>(b.first.begin(), b.first.end()).size() > 1);
}

TEST_CASE("adding problem: the generator: the same seed gives the same data", "[apps][adding]") {
  Rng a(7), b(7), c(8), d(7);
  const Batch<float> x = make_batch<float>(12, 20, a), y = make_batch<float>(12, 20, b);
  const Batch<float> z = make_batch<float>(12, 20, c);
  const Batch<double> w = make_batch<double>(12, 20, d);
  CHECK((x.x == y.x));
  CHECK((x.target == y.target));
  CHECK(x.first == y.first);
  CHECK(x.second == y.second);
  CHECK((x.x != z.x));
  // float and double: the same draws, rounded.
  CHECK(xt::allclose(xt::cast<double>(x.x), w.x, 1e-6, 0.0));
  CHECK(x.first == w.first);
  // The held-out set is fixed, and not a batch of the training stream.
  CHECK((held_out_set(12, 20).x == held_out_set(12, 20).x));
  CHECK_THROWS_AS(make_batch<float>(1, 4, a), Error);
}

TEST_CASE("adding problem: the model's gradients check in double, for every cell",
          "[apps][adding][gradcheck]") {
  const std::string cell = GENERATE("rnn", "lstm", "gru");
  const bool masked = GENERATE(false, true);
  INFO(cell << (masked ? ", variable lengths" : ""));
  Tape<double> tape;
  Rng rng(3);
  AddingModel<double> model(tape, parse_cell_type(cell), 3, rng);
  Rng data_rng(4);
  Batch<double> b = make_batch<double>(5, 3, data_rng);
  Var<double> x = tape.constant(b.x), target = tape.constant(b.target);
  // Lengths 5, 3, 4: the first markers of the shorter ones are in steps 0-1.
  const Tensor<double> mask = sequence_mask<double>(std::vector<std::size_t>{5, 3, 4}, 5);
  test::require_gradcheck(tape, model.parameters(),
                          [&] { return mse(model.forward(x, masked ? &mask : nullptr), target); });
  // The prediction too (three outputs, each checked), not only the loss.
  test::require_gradcheck(tape, model.parameters(),
                          [&] { return model.forward(x, masked ? &mask : nullptr); });
}

TEST_CASE("adding problem: padding under a mask leaves each prediction as it was",
          "[apps][adding]") {
  Tape<float> tape;
  Rng rng(2);
  AddingModel<float> model(tape, CellType::LSTM, 8, rng);
  auto no_grad = tape.no_grad();
  Rng data_rng(9);
  const Batch<float> shorter = make_batch<float>(6, 1, data_rng);
  const Batch<float> longer = make_batch<float>(9, 1, data_rng);
  // One batch of 9 steps: the 6-step sequence, then 3 steps of padding
  // (filled with ones, which must not leak in), beside the 9-step one.
  Tensor<float> x = zeros<float>(Shape{9, 2, 2});
  x.fill(1.0f);
  xt::view(x, xt::range(0, 6), 0, xt::all()) = xt::view(shorter.x, xt::all(), 0, xt::all());
  xt::view(x, xt::all(), 1, xt::all()) = xt::view(longer.x, xt::all(), 0, xt::all());
  const Tensor<float> mask = sequence_mask<float>(std::vector<std::size_t>{6, 9}, 9);

  const float both_0 = model.forward(tape.constant(x), &mask).value()(0, 0);
  const float both_1 = model.forward(tape.constant(x), &mask).value()(1, 0);
  const float unmasked_0 = model.forward(tape.constant(x)).value()(0, 0);
  CHECK(both_0 == Approx(model.forward(tape.constant(shorter.x)).item()).epsilon(1e-5));
  CHECK(both_1 == Approx(model.forward(tape.constant(longer.x)).item()).epsilon(1e-5));
  CHECK(std::abs(unmasked_0 - both_0) > 1e-4);  // without the mask the padding is read
}

TEST_CASE("adding problem: a short LSTM run learns it, far below the baseline",
          "[apps][adding][train]") {
  const RunResult r = run(short_run(), nullptr);
  REQUIRE(r.history.size() == 1);
  CHECK(r.history.back().step == 600);
  INFO("eval MSE " << r.final.mse << ", baseline " << r.final.baseline);
  CHECK(r.final.baseline == Approx(1.0 / 6).margin(0.02));
  CHECK(r.final.mse < 0.01);

  // The bar is out of reach without training: the same model, untrained.
  Tape<float> tape;
  Rng rng(short_run().seed);
  AddingModel<float> untrained(tape, CellType::LSTM, 16, rng);
  const Evaluation before = evaluate(untrained, tape, held_out_set(10, 500));
  CHECK(before.mse > 0.1);
}

TEST_CASE("adding problem: metrics, and a checkpoint that evaluates to the same MSE",
          "[apps][adding][checkpoint]") {
  const data::test::TmpDir dir;
  Config c = short_run();
  c.cell = "gru";  // the checkpoint, not the flags, decides the model below
  c.steps = 60;
  c.eval_every = 20;
  c.save = (dir / "gru.safetensors").string();
  c.metrics = (dir / "gru.csv").string();
  const RunResult trained = run(c, nullptr);
  REQUIRE(trained.history.size() == 3);

  const std::string csv = read_file(c.metrics);
  CHECK(csv.rfind("step,loss,eval_mse,elapsed_seconds\n20,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  CHECK(app::read_metadata(c.save).at("step") == "60");

  Config e = short_run();
  e.cell = "rnn";
  e.hidden = 5;
  e.steps = 0;
  e.load = c.save;
  const RunResult loaded = run(e, nullptr);
  CHECK(loaded.config.cell == "gru");
  CHECK(loaded.config.hidden == 16);
  CHECK(loaded.final.mse == Approx(trained.final.mse).epsilon(1e-6));

  Config absent = e;
  absent.load = (dir / "absent.safetensors").string();
  CHECK_THROWS_AS(run(absent, nullptr), Error);
}

TEST_CASE("adding problem: settings out of range are usage errors", "[apps][adding][cli]") {
  Config c;
  CHECK_NOTHROW(validate(c));
  c.cell = "lsmt";
  CHECK_THROWS_WITH(validate(c), Catch::Contains("--cell") && Catch::Contains("lsmt"));
  c = Config();
  c.length = 1;
  CHECK_THROWS_WITH(validate(c), Catch::Contains("--length"));
  c = Config();
  c.batch = 0;
  CHECK_THROWS_AS(validate(c), UsageError);
  c = Config();
  c.steps = 0;  // evaluating needs a checkpoint
  CHECK_THROWS_AS(validate(c), UsageError);
}

TEST_CASE("adding problem: the executable's exit codes and messages", "[apps][adding][cli]") {
  CHECK(run_exe("--help").first == 0);
  const auto [cell_code, cell_err] = run_exe("--cell lsmt");
  CHECK(cell_code == 2);
  CHECK_THAT(cell_err, Catch::Contains("unknown cell 'lsmt'"));
  const auto [length_code, length_err] = run_exe("--length 1");
  CHECK(length_code == 2);
  CHECK_THAT(length_err, Catch::Contains("--length must be at least 2"));
  CHECK(run_exe("--steps many").first == 2);
  CHECK(run_exe("--no-such-flag").first == 2);
  CHECK(run_exe("--load /nonexistent/adding.safetensors --steps 0").first == 1);
  const auto [ok_code, ok_err] = run_exe("--length 4 --hidden 4 --steps 3 --eval-size 10");
  CHECK(ok_code == 0);
  CHECK(ok_err.empty());  // no progress line when stderr is not a terminal
}

// Every ```cpp block of the tutorial follows a line naming its source file
// in backquotes; the block must stand in that file verbatim (a "// ..."
// line marks lines left out between two pieces).
TEST_CASE("adding problem: the tutorial quotes the example's code verbatim",
          "[apps][adding][docs]") {
  const fs::path root = TAPEGRAD_SOURCE_DIR;
  std::istringstream doc(read_file(root / "docs/writing_a_model.md"));
  std::string line, source_line;
  std::size_t blocks = 0;
  while (std::getline(doc, line)) {
    if (line != "```cpp") {
      if (!line.empty()) source_line = line;
      continue;
    }
    const std::size_t open = source_line.rfind("`apps/") != std::string::npos
                                 ? source_line.rfind("`apps/")
                                 : source_line.rfind("`tests/");
    INFO("the line before a ```cpp block: " << source_line);
    REQUIRE(open != std::string::npos);
    const std::size_t close = source_line.find('`', open + 1);
    const std::string path = source_line.substr(open + 1, close - open - 1);
    const std::string source = read_file(root / path);
    REQUIRE(!source.empty());
    std::vector<std::string> pieces(1);
    while (std::getline(doc, line) && line != "```") {
      if (line.find_first_not_of(' ') != std::string::npos &&
          line.substr(line.find_first_not_of(' ')) == "// ...")
        pieces.emplace_back();
      else
        pieces.back() += line + "\n";
    }
    std::size_t at = 0;
    for (const std::string& piece : pieces) {
      INFO("in " << path << ":\n" << piece);
      at = source.find(piece, at);
      REQUIRE(at != std::string::npos);
    }
    ++blocks;
  }
  CHECK(blocks >= 8);
}

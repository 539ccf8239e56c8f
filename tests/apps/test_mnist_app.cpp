// The MNIST app (apps/mnist_rnn): training on a small synthetic split that
// only a learning model classifies, checkpoints (evaluate, resume, mismatch),
// and the command line.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/safetensors.hpp>
#include "apps/mnist_rnn/mnist_app.hpp"
#include <tapegrad/optim/adam.hpp>
#include "tests/apps/torch_export.hpp"

using namespace tg;
namespace fs = std::filesystem;

namespace {

// 28x28 images of ten classes: class k has a bright vertical stroke at
// column 3 + 2k, drawn only in rows 2..9, over uniform noise everywhere.
// The last rows carry no information, so the last hidden state must have
// kept what it saw early on; chance is 0.1.
data::MnistSplit synthetic_split(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> noise(0, 90), label(0, 9), jitter(-1, 1);
  data::MnistSplit s;
  s.pixels.resize(n * 784);
  s.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int k = label(rng);
    s.labels[i] = std::uint8_t(k);
    std::uint8_t* img = s.pixels.data() + i * 784;
    for (int p = 0; p < 784; ++p) img[p] = std::uint8_t(noise(rng));
    const int top = 2 + jitter(rng);
    for (int r = top; r < top + 8; ++r) img[r * 28 + 3 + 2 * k] = 255;
  }
  return s;
}

const data::Mnist& synthetic() {
  static const data::Mnist m{synthetic_split(2000, 11), synthetic_split(500, 12)};
  return m;
}

// A frame parsed from flags, as the executable builds it; the settings it
// fills live beside it.
struct App {
  app::Frame frame{"mnist_rnn", "test"};
  mnist::Settings settings;
  // `small`: the test's model and schedule (hidden 32, lr 5e-3 constant, no
  // clipping, 300 steps, evaluation at the end) before `args`. Constant, so a
  // run cut short by --steps is the first part of a longer one (a cosine
  // spans the run's --steps; the Trainer's tests resume it exactly).
  explicit App(std::vector<std::string> args, bool small = true) {
    mnist::add_flags(frame, settings);
    if (small)
      args.insert(args.begin(), {"--hidden", "32", "--lr", "5e-3", "--schedule", "constant", "--clip", "0",
                                 "--steps", "300", "--eval-every", "0"});
    args.insert(args.begin(), {"mnist_rnn", "--quiet"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    frame.parse(int(argv.size()), argv.data());
  }
  mnist::RunResult run() { return mnist::run(settings, frame, synthetic(), nullptr); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("tapegrad_mnist_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

int exit_code_of(const std::string& args) {
  const std::string cmd = std::string(MNIST_RNN_EXE) + " " + args + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("the RNN learns a synthetic digit pattern far above chance", "[apps][mnist]") {
  const mnist::RunResult r = App({}).run();
  CHECK(r.first_step == 0);
  CHECK(r.last_step == 300);
  REQUIRE(r.test.predictions.size() == 500);
  CHECK(r.train_seconds > 0);
  CHECK(r.test.accuracy >= 0.9);
  CHECK(r.test.loss < 0.5);  // an untrained model sits near log(10) = 2.3
}

TEST_CASE("an untrained model is at chance on the synthetic split", "[apps][mnist]") {
  Tape<float> tape;
  Rng rng(1);
  mnist::Model model(tape, CellType::RNN, 32, 1, RecurrentInit::GlorotOrthogonal, rng);
  const mnist::Evaluation ev = mnist::evaluate(model, tape, synthetic().test, 128);
  CHECK(ev.accuracy < 0.3);
  CHECK(ev.predictions.size() == 500);
}

TEST_CASE("checkpoints: evaluate-only, bit-identical resume, settings from the file",
          "[apps][mnist][checkpoint]") {
  const fs::path dir = temp_dir();
  const std::string half = (dir / "half.st").string(), whole = (dir / "whole.st").string();
  // A cell with two bias tensors: every parameter must round-trip.
  App({"--cell", "gru", "--steps", "60", "--save", half}).run();
  const mnist::RunResult straight = App({"--cell", "gru", "--steps", "100", "--save", whole}).run();

  SECTION("--eval-only gives the figures of the run that saved it; the model comes from the file") {
    App e({"--load", whole, "--eval-only"}, /*small=*/false);
    CHECK(e.settings.cell == "gru");
    CHECK(e.settings.hidden == 32);
    const mnist::RunResult again = e.run();
    CHECK(again.first_step == 100);
    CHECK(again.last_step == 100);
    CHECK(again.test.accuracy == straight.test.accuracy);
    CHECK(again.test.predictions == straight.test.predictions);
  }
  SECTION("--load trains on to --steps, byte for byte the uninterrupted run") {
    const mnist::RunResult resumed = App({"--load", half, "--steps", "100", "--save", half}, false).run();
    CHECK(resumed.first_step == 60);
    CHECK(resumed.last_step == 100);
    CHECK(slurp(half) == slurp(whole));
    CHECK(resumed.test.predictions == straight.test.predictions);
  }
  SECTION("a setting that differs from the checkpoint's is a usage error, unless allowed") {
    CHECK_THROWS_AS(App({"--load", half, "--hidden", "16"}, false), app::UsageError);
    CHECK_THROWS_WITH(App({"--load", half, "--lr", "0.1"}, false),
                      Catch::Contains("--lr") && Catch::Contains("--allow-changes"));
    CHECK_NOTHROW(App({"--load", half, "--lr", "0.1", "--allow-changes"}, false));
    CHECK_NOTHROW(App({"--load", half, "--lr", "5e-3"}, false));  // the same value, spelled otherwise
  }
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint whose tensors do not fit is refused, naming the tensor",
          "[apps][mnist][checkpoint]") {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "h16.st").string();
  App({"--steps", "2", "--save", path}).run();
  Tape<float> tape;
  Rng rng(1);
  mnist::Model other(tape, CellType::RNN, 24, 1, RecurrentInit::GlorotOrthogonal, rng);
  CHECK_THROWS_WITH(ckpt::load<float>(path, other.named_parameters(), nullptr),
                    Catch::Contains("model.rnn.l0.fwd.weight_ih") && Catch::Contains("shape"));
  fs::remove_all(dir);
}

TEST_CASE("a non-finite run stops with an error and keeps the last checkpoint",
          "[apps][mnist][nan]") {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "good.st").string();
  App({"--steps", "20", "--save", path}).run();
  const std::string good = slurp(path);
  CHECK_THROWS_AS(App({"--lr", "inf"}), app::UsageError);  // not even parsed
  // A checkpoint with one NaN weight (written around the guard of ckpt::save).
  const std::string poisoned = (dir / "nan.st").string();
  Checkpoint file = load_safetensors(path);
  float* w = reinterpret_cast<float*>(file.tensors.at("model.head.weight").bytes.data());
  w[3] = NAN;
  save_safetensors(poisoned, file);
  App bad({"--load", poisoned, "--steps", "40", "--save", path}, false);
  CHECK_THROWS_WITH(bad.run(), Catch::Contains("step 21") && Catch::Contains("nan"));
  CHECK(slurp(path) == good);
  // --detect-anomaly names the op that first made the NaN: the head's product.
  App traced({"--load", poisoned, "--steps", "40", "--detect-anomaly"}, false);
  CHECK_THROWS_WITH(traced.run(), Catch::Contains("anomaly: op '") && Catch::Contains("(32, 10)"));
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint's settings are checked like flags, before anything is built",
          "[apps][mnist][checkpoint]") {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "ok.st").string(), huge = (dir / "huge.st").string();
  App({"--steps", "2", "--save", path}).run();
  Checkpoint file = load_safetensors(path);
  const std::string meta = file.metadata.at("tapegrad");
  const std::string from = "\"--hidden\":\"32\"";
  REQUIRE(meta.find(from) != std::string::npos);
  file.metadata["tapegrad"] = meta.substr(0, meta.find(from)) + "\"--hidden\":\"100000000\"" +
                              meta.substr(meta.find(from) + from.size());
  save_safetensors(huge, file);
  CHECK_THROWS_WITH(App({"--load", huge, "--eval-only"}, false),
                    Catch::Contains(huge) && Catch::Contains("--hidden 100000000"));
  fs::remove_all(dir);
}

TEST_CASE("settings out of range are usage errors", "[apps][mnist][cli]") {
  CHECK_THROWS_WITH(App({"--cell", "lsmt"}), Catch::Contains("lsmt"));
  CHECK_THROWS_AS(App({"--init", "xavier"}), app::UsageError);
  CHECK_THROWS_AS(App({"--batch", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--hidden", "1000000000"}), app::UsageError);
  CHECK_THROWS_AS(App({"--eval-only"}), app::UsageError);  // needs --load
  CHECK_THROWS_AS(App({"--lr", "nan"}), app::UsageError);
}

TEST_CASE("the executable's exit codes", "[apps][mnist][cli]") {
  CHECK(exit_code_of("--help") == 0);
  CHECK(exit_code_of("--cell lsmt") == 2);
  CHECK(exit_code_of("--steps many") == 2);
  CHECK(exit_code_of("--no-such-flag") == 2);
  // A missing checkpoint fails at start-up, before any data is read.
  CHECK(exit_code_of("--load " + (temp_dir() / "absent.safetensors").string() + " --eval-only") == 1);
}

TEST_CASE("mnist app: --export-torch writes the model the run ended with", "[apps][mnist][torch]") {
  const fs::path dir = temp_dir();
  const std::string st = (dir / "export.st").string(), pt = (dir / "export.safetensors").string();
  App({"--cell", "lstm", "--layers", "2", "--steps", "10", "--save", st, "--export-torch", pt}).run();
  Tape<float> tape;
  Rng rng(3);
  mnist::Model model(tape, CellType::LSTM, 32, 2, RecurrentInit::GlorotOrthogonal, rng);
  test::check_export(pt, model, st);
  CHECK(load_safetensors(pt).metadata.at("torch_modules") ==
        R"j({"rnn":"nn.LSTM(input_size=28, hidden_size=32, num_layers=2)","head":"nn.Linear(32, 10)"})j");
  fs::remove(st);
  fs::remove(pt);
}

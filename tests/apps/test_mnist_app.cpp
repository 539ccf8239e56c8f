// The MNIST app (apps/mnist_rnn): training on a small synthetic split that
// only a learning model classifies, checkpoints (evaluate, resume, mismatch),
// and the command line.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "apps/common/model_io.hpp"
#include "apps/mnist_rnn/mnist_app.hpp"
#include "optim/adam.hpp"

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

mnist::Config small_config() {
  mnist::Config c;
  c.hidden = 32;
  c.steps = 300;
  c.lr = 5e-3;
  c.eval_every = 0;
  c.progress = false;
  return c;
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
  const mnist::RunResult r = mnist::run(small_config(), synthetic(), nullptr);
  CHECK(r.first_step == 0);
  CHECK(r.last_step == 300);
  REQUIRE(r.test.predictions.size() == 500);
  CHECK(r.first_labels.size() == 10);
  CHECK(r.train_seconds > 0);
  CHECK(r.test.accuracy >= 0.9);
  CHECK(r.test.loss < 0.5);  // an untrained model sits near log(10) = 2.3
}

TEST_CASE("an untrained model is at chance on the synthetic split", "[apps][mnist]") {
  // The bar of the test above is not reached without training.
  Tape<float> tape;
  Rng rng(1);
  mnist::Model model(tape, CellType::RNN, 32, 1, RecurrentInit::GlorotOrthogonal, rng);
  const mnist::Evaluation ev = mnist::evaluate(model, tape, synthetic().test, 128);
  CHECK(ev.predictions.size() == 500);
  CHECK(ev.accuracy < 0.4);
}

TEST_CASE("a saved checkpoint evaluates to the same figures and resumes exactly",
          "[apps][mnist][checkpoint]") {
  const fs::path dir = temp_dir();
  const std::string ckpt = (dir / "mnist.safetensors").string();
  const std::string resumed_ckpt = (dir / "resumed.safetensors").string();

  mnist::Config c = small_config();
  c.cell = "gru";  // a cell with two bias tensors: every parameter must round-trip
  c.steps = 60;
  c.save = ckpt;
  const mnist::RunResult first = mnist::run(c, synthetic(), nullptr);

  SECTION("--load with --steps 0 evaluates to the same loss, accuracy and predictions") {
    mnist::Config e = small_config();
    e.cell = "rnn";  // the checkpoint's metadata decides the model
    e.hidden = 7;
    e.steps = 0;
    e.load = ckpt;
    const mnist::RunResult again = mnist::run(e, synthetic(), nullptr);
    CHECK(again.config.cell == "gru");
    CHECK(again.config.hidden == 32);
    CHECK(again.first_step == 60);
    CHECK(again.last_step == 60);
    CHECK(again.test.accuracy == first.test.accuracy);
    CHECK(again.test.loss == Approx(first.test.loss).epsilon(1e-6));
    CHECK(again.test.predictions == first.test.predictions);
  }

  SECTION("--load with more steps continues the uninterrupted run") {
    mnist::Config more = small_config();
    more.steps = 40;
    more.load = ckpt;
    more.save = resumed_ckpt;
    const mnist::RunResult resumed = mnist::run(more, synthetic(), nullptr);
    CHECK(resumed.first_step == 60);
    CHECK(resumed.last_step == 100);
    CHECK(app::read_metadata(resumed_ckpt).at("step") == "100");

    mnist::Config straight = small_config();
    straight.cell = "gru";
    straight.steps = 100;
    const mnist::RunResult whole = mnist::run(straight, synthetic(), nullptr);
    // Same batches, same Adam state: the same model up to float rounding.
    CHECK(resumed.last_minibatch_loss == Approx(whole.last_minibatch_loss).epsilon(1e-4));
    CHECK(resumed.test.loss == Approx(whole.test.loss).epsilon(1e-4));
  }
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint of another shape is refused, naming the tensor",
          "[apps][mnist][checkpoint]") {
  const fs::path dir = temp_dir();
  const std::string ckpt = (dir / "h16.safetensors").string();
  Tape<float> tape;
  Rng rng(1);
  mnist::Model small(tape, CellType::RNN, 16, 1, RecurrentInit::GlorotOrthogonal, rng);
  Adam<float> opt(small.parameters());

  SECTION("loading into a model with another hidden size") {
    app::save_model<float>(ckpt, small, &opt, {{"cell", "rnn"}, {"hidden", "16"}, {"layers", "1"}, {"step", "0"}});
    mnist::Model other(tape, CellType::RNN, 24, 1, RecurrentInit::GlorotOrthogonal, rng);
    Adam<float> other_opt(other.parameters());
    CHECK_THROWS_WITH(app::load_model(ckpt, other, &other_opt),
                      Catch::Contains("model.rnn.l0.fwd.weight_ih") && Catch::Contains("shape"));
  }
  SECTION("metadata that does not match the tensors, through the app") {
    app::save_model<float>(ckpt, small, &opt, {{"cell", "rnn"}, {"hidden", "24"}, {"layers", "1"}, {"step", "0"}});
    mnist::Config c = small_config();
    c.steps = 0;
    c.load = ckpt;
    CHECK_THROWS_AS(mnist::run(c, synthetic(), nullptr), Error);
    CHECK_THROWS_WITH(mnist::run(c, synthetic(), nullptr), Catch::Contains("model.rnn.l0.fwd.weight_ih"));
  }
  SECTION("metadata without the model shape") {
    app::save_model<float>(ckpt, small, &opt, {{"cell", "rnn"}, {"layers", "1"}, {"step", "0"}});
    mnist::Config c = small_config();
    c.steps = 0;
    c.load = ckpt;
    CHECK_THROWS_WITH(mnist::run(c, synthetic(), nullptr), Catch::Contains("'hidden'"));
  }
  fs::remove_all(dir);
}

TEST_CASE("settings out of range are usage errors", "[apps][mnist][cli]") {
  mnist::Config c;
  CHECK_NOTHROW(mnist::validate(c));
  c.cell = "lsmt";
  CHECK_THROWS_AS(mnist::validate(c), mnist::UsageError);
  CHECK_THROWS_WITH(mnist::validate(c), Catch::Contains("lsmt"));
  c = mnist::Config();
  c.init = "xavier";
  CHECK_THROWS_AS(mnist::validate(c), mnist::UsageError);
  c = mnist::Config();
  c.batch = 0;
  CHECK_THROWS_AS(mnist::validate(c), mnist::UsageError);
  c = mnist::Config();
  c.steps = 0;  // evaluating needs a checkpoint
  CHECK_THROWS_AS(mnist::validate(c), mnist::UsageError);
}

TEST_CASE("the executable's exit codes", "[apps][mnist][cli]") {
  CHECK(exit_code_of("--help") == 0);
  CHECK(exit_code_of("--cell lsmt") == 2);
  CHECK(exit_code_of("--steps many") == 2);
  CHECK(exit_code_of("--no-such-flag") == 2);
  // A missing checkpoint fails at start-up, before any data is read.
  CHECK(exit_code_of("--load " + (temp_dir() / "absent.safetensors").string() + " --steps 0") == 1);
}

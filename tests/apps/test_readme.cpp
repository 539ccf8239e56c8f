// The README's "a model in a few lines", kept in step with it: the test runs
// the README's lines as written (it checks that each stands here) on a
// synthetic task (the class is where a bright row sits in the first half of
// the sequence, so the model must remember it), with fewer steps. A line that
// differs says so: "// README: <the README's line>".
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include <tapegrad/checkpoint/state.hpp>
#include "tests/datasets/tmpdir.hpp"  // TmpDir, read_file

#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/optim/optim.hpp>
#include <tapegrad/train/trainer.hpp>
using namespace tg;

namespace {

// Batch `index` of epoch `epoch`: 50 sequences of 28 steps of 28 features,
// drawn from (epoch, index) alone, as a resumable run needs.
std::tuple<Tensor<float>, std::vector<std::int64_t>> synthetic_batch(std::uint64_t seed) {
  Rng data_rng(seed);
  const std::size_t T = 28, B = 50, F = 28;
  Tensor<float> x = uniform<float>(Shape{T, B, F}, 0.0f, 0.1f, data_rng);
  std::vector<std::int64_t> labels(B);
  for (std::size_t b = 0; b < B; ++b) {
    labels[b] = std::int64_t(data_rng() % 10);
    for (std::size_t f = 0; f < F; ++f) x(std::size_t(labels[b]), b, f) = 1.0f;
  }
  return {x, labels};
}

std::tuple<Tensor<float>, std::vector<std::int64_t>> batch_at(std::size_t epoch, std::size_t index) {
  return synthetic_batch(7 + 1000 * epoch + index);
}

// The code part of a line: without its "//" comment and outer blanks.
std::string code_of(const std::string& line) {
  std::string s = line.substr(0, line.find("//"));
  const std::size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

TEST_CASE("the README's model trains as written", "[readme]") {
  const data::test::TmpDir dir;
  Tensor<float> test_x;
  std::vector<std::int64_t> test_labels;
  std::tie(test_x, test_labels) = synthetic_batch(99);
  std::function<double()> test_accuracy;

  Tape<float> tape;
  Rng rng(1);
  Recurrent<float> rnn(tape, RecurrentOptions(28, 128).cell(CellType::LSTM), rng);
  Linear<float> head(tape, 128, 10, rng);
  std::vector<NamedParameter<float>> params;  // "rnn.l0.fwd.weight_ih", ..., "head.bias"
  for (auto& q : rnn.named_parameters("rnn.")) params.push_back(q);
  for (auto& q : head.named_parameters("head.")) params.push_back(q);
  std::vector<Var<float>> weights;
  for (auto& p : params) weights.push_back(p.var);
  Adam<float> opt(weights, 1e-3f);

  train::Options options;
  options.batches_per_epoch = 100;  // README: options.batches_per_epoch = 1200;
  options.steps = 200;  // README: options.steps = 4000;
  options.clip = 5.0;
  options.save = (dir / "lstm.safetensors").string();  // README: options.save = "lstm.safetensors";
  options.log = nullptr;  // the test: silent
  train::Trainer<float> trainer(tape, params, opt, options);
  float first_loss = 0, last_loss = 0;
  trainer.on_step = [&](const train::Batch& b, double loss) {
    (b.step == 1 ? first_loss : last_loss) = float(loss);
  };
  test_accuracy = [&] {
    auto guard = tape.no_grad();
    const Tensor<float> logits = head(rnn.forward(tape.constant(test_x)).last()).value();
    std::size_t right = 0;
    for (std::size_t b = 0; b < test_labels.size(); ++b) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < 10; ++c)
        if (logits(b, c) > logits(b, best)) best = c;
      right += best == std::size_t(test_labels[b]);
    }
    tape.clear();
    return double(right) / double(test_labels.size());
  };
  trainer.fit(
      [&](const train::Batch& b) {  // the forward of one step; the Trainer does the rest
        auto [x, labels] = batch_at(b.epoch, b.index);  // x: Tensor<float> (time, batch, 28); labels: vector<int64_t>
        return cross_entropy(head(rnn.forward(tape.constant(x)).last()), labels);
      },
      [&] { return train::Metrics{{"test_acc", test_accuracy()}}; });

  INFO("loss " << first_loss << " -> " << last_loss);
  REQUIRE(last_loss < 0.25f * first_loss);
  REQUIRE(trainer.history().size() == 2);  // each epoch end
  REQUIRE(trainer.history().back().values.at(0).second >= 0.9);  // of 50; chance is 0.1
  REQUIRE(ckpt::read_meta(options.save).at("trainer").at("step") == 200);
}

TEST_CASE("the README's model: each of its lines stands in this test", "[readme]") {
  const std::string root = TAPEGRAD_SOURCE_DIR;
  const std::string readme = data::test::read_file(root + "/README.md");
  const std::string self = data::test::read_file(root + "/tests/apps/test_readme.cpp");
  const std::size_t section = readme.find("## A model in a few lines");
  REQUIRE(section != std::string::npos);
  const std::size_t open = readme.find("```cpp\n", section);
  const std::size_t close = readme.find("```\n", open + 7);
  REQUIRE(close != std::string::npos);
  std::istringstream block(readme.substr(open + 7, close - open - 7));
  std::istringstream here_lines(self);
  std::vector<std::string> here;
  for (std::string line; std::getline(here_lines, line);) here.push_back(line);
  std::size_t lines = 0;
  for (std::string line; std::getline(block, line);) {
    const std::string code = code_of(line);
    if (code.empty()) continue;
    INFO("README line: " << line);
    bool found = false;
    for (const std::string& h : here)
      found = found || code_of(h) == code || h.find("// README: " + code) != std::string::npos;
    CHECK(found);
    ++lines;
  }
  CHECK(lines >= 25);
}

// A training run's state in one checkpoint: weights and optimizer state keyed
// by parameter name (checkpoint/state.hpp).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <cmath>
#include <limits>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/optim/adam.hpp>

using namespace tg;
namespace fs = std::filesystem;

namespace {
fs::path temp_file(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tapegrad_state_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}

// Two linear layers of different shapes, so a moment paired with the wrong
// weight cannot go unnoticed.
struct TwoLayers {
  Linear<float> first, second;
  TwoLayers(Tape<float>& tape, Rng& rng) : first(tape, 3, 4, rng), second(tape, 4, 2, rng) {}
  std::vector<NamedParameter<float>> named(bool reversed) {
    std::vector<NamedParameter<float>> out;
    for (auto& q : first.named_parameters("first.")) out.push_back(q);
    for (auto& q : second.named_parameters("second.")) out.push_back(q);
    if (reversed) std::reverse(out.begin(), out.end());
    return out;
  }
  std::vector<Var<float>> vars(bool reversed) {
    std::vector<Var<float>> out;
    for (auto& p : named(reversed)) out.push_back(p.var);
    return out;
  }
  Var<float> loss(Tape<float>& tape, const Tensor<float>& x) {
    return mean(square(second(tanh(first(tape.constant(x))))));
  }
};

void train_step(Tape<float>& tape, TwoLayers& m, Adam<float>& opt, const Tensor<float>& x) {
  opt.zero_grad();
  tape.backward(m.loss(tape, x));
  opt.step();
  tape.clear();
}
}  // namespace

TEST_CASE("state: weights and Adam moments round-trip, both copies then take the same step",
          "[checkpoint][state]") {
  const std::string path = temp_file("roundtrip.st").string();
  Tape<float> tape;
  Rng rng(1);
  const Tensor<float> x = uniform<float>(Shape{5, 3}, -1, 1, rng);
  TwoLayers a(tape, rng);
  Adam<float> opt_a(a.vars(false), 1e-2f);
  train_step(tape, a, opt_a, x);
  ckpt::save<float>(path, a.named(false), &opt_a, ckpt::Json{{"app", "test"}, {"hidden", 4}});

  TwoLayers b(tape, rng);  // other weights
  Adam<float> opt_b(b.vars(false), 1e-2f);
  const ckpt::Json meta = ckpt::load<float>(path, b.named(false), &opt_b);
  CHECK(ckpt::at(meta, "/hidden", path) == 4);
  CHECK_THROWS_WITH(ckpt::at(meta, "/cell", path), Catch::Contains("cell") && Catch::Contains(path));
  CHECK(opt_b.steps() == 1);
  train_step(tape, a, opt_a, x);
  train_step(tape, b, opt_b, x);
  for (std::size_t i = 0; i < 4; ++i)
    CHECK((a.named(false)[i].var.value() == b.named(false)[i].var.value()));
  fs::remove(path);
}

TEST_CASE("state: optimizer state follows the parameter's name, not its place in the list",
          "[checkpoint][state]") {
  const std::string path = temp_file("reordered.st").string();
  Tape<float> tape;
  Rng rng(2);
  const Tensor<float> x = uniform<float>(Shape{5, 3}, -1, 1, rng);
  TwoLayers a(tape, rng);
  Adam<float> opt_a(a.vars(false), 1e-2f);
  for (int i = 0; i < 3; ++i) train_step(tape, a, opt_a, x);
  ckpt::save<float>(path, a.named(false), &opt_a, ckpt::Json::object());

  // The file names each moment after its weight.
  const Checkpoint file = load_safetensors(path);
  CHECK(file.tensors.count("optim.first.weight.adam.m") == 1);
  CHECK(file.tensors.count("optim.second.bias.adam.v") == 1);

  // Rebuilt with parameters and optimizer both listed in reverse order.
  TwoLayers b(tape, rng);
  Adam<float> opt_b(b.vars(true), 1e-2f);
  ckpt::load<float>(path, b.named(true), &opt_b);
  // And with the optimizer's list in another order than the names' list.
  TwoLayers c(tape, rng);
  Adam<float> opt_c(c.vars(true), 1e-2f);
  ckpt::load<float>(path, c.named(false), &opt_c);
  train_step(tape, a, opt_a, x);
  train_step(tape, b, opt_b, x);  // a moment on the wrong weight would throw or differ here
  train_step(tape, c, opt_c, x);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK((a.named(false)[i].var.value() == b.named(false)[i].var.value()));
    CHECK((a.named(false)[i].var.value() == c.named(false)[i].var.value()));
  }
  fs::remove(path);
}

TEST_CASE("state: evaluation loads weights alone, a model of another shape is refused untouched",
          "[checkpoint][state]") {
  const std::string path = temp_file("eval.st").string();
  Tape<float> tape;
  Rng rng(3);
  TwoLayers a(tape, rng);
  Adam<float> opt_a(a.vars(false), 1e-2f);
  ckpt::save<float>(path, a.named(false), &opt_a, ckpt::Json::object());

  TwoLayers c(tape, rng);
  ckpt::load<float>(path, c.named(false), nullptr);  // optim.* is ignored
  CHECK((c.second.bias.value() == a.second.bias.value()));

  Linear<float> wrong(tape, 3, 5, rng);
  std::vector<NamedParameter<float>> wrong_named;
  for (auto& q : wrong.named_parameters("first.")) wrong_named.push_back(q);
  const Tensor<float> before = wrong.weight.value();
  CHECK_THROWS_WITH(ckpt::load<float>(path, wrong_named, nullptr), Catch::Contains("first.weight"));
  CHECK((wrong.weight.value() == before));
  fs::remove(path);
}

TEST_CASE("state: a non-finite weight is never saved over a good checkpoint", "[checkpoint][state]") {
  const std::string path = temp_file("nan.st").string();
  Tape<float> tape;
  Rng rng(4);
  TwoLayers a(tape, rng);
  ckpt::save<float>(path, a.named(false), nullptr, ckpt::Json::object());
  const auto good_size = fs::file_size(path);
  a.second.weight.value()(1, 0) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(ckpt::save<float>(path, a.named(false), nullptr, ckpt::Json::object()),
                    Catch::Contains("second.weight"));
  CHECK(fs::file_size(path) == good_size);
  TwoLayers b(tape, rng);
  ckpt::load<float>(path, b.named(false), nullptr);
  CHECK(std::isfinite(b.second.weight.value()(1, 0)));
  fs::remove(path);
}

TEST_CASE("state: extra tensors are saved under their names and loaded when asked for",
          "[checkpoint][state]") {
  const std::string path = temp_file("extra.st").string();
  Tape<float> tape;
  Rng rng(7);
  TwoLayers a(tape, rng);
  Adam<float> opt(a.vars(false), 1e-2f);
  Tensor<float> best = a.second.bias.value() + 1.0f, hidden = Tensor<float>::from_shape({2, 3});
  hidden.fill(0.5f);
  ckpt::save<float>(path, a.named(false), &opt, ckpt::Json::object(),
                    {{"model.best.second.bias", &best}, {"state.hidden", &hidden}});
  const Checkpoint file = load_safetensors(path);
  CHECK(file.tensors.at("state.hidden").shape == Shape{2, 3});
  Tensor<float> best_in = Tensor<float>::from_shape({2}), hidden_in = Tensor<float>::from_shape({2, 3});
  ckpt::load<float>(path, a.named(false), &opt,
                    {{"model.best.second.bias", &best_in}, {"state.hidden", &hidden_in}});
  CHECK((best_in == best));
  CHECK((hidden_in == hidden));
  // Evaluation: the run's state (optim.*, state.*) is left; model.best.* is the model's part.
  CHECK_THROWS_WITH(ckpt::load<float>(path, a.named(false), nullptr),
                    Catch::Contains("unexpected 'model.best.second.bias'"));
  CHECK_NOTHROW(ckpt::load<float>(path, a.named(false), nullptr, {{"model.best.second.bias", &best_in}}));
  Tensor<float> narrow = Tensor<float>::from_shape({2, 2});
  CHECK_THROWS_WITH(ckpt::load<float>(path, a.named(false), &opt, {{"model.best.second.bias", &best_in},
                                                                   {"state.hidden", &narrow}}),
                    Catch::Contains(path) && Catch::Contains("'state.hidden'") && Catch::Contains("(2, 3)") &&
                        Catch::Contains("(2, 2)"));
  // Refused before anything is written: a name taken twice, a value not finite.
  const auto size = fs::file_size(path);
  CHECK_THROWS_WITH(
      ckpt::save<float>(path, a.named(false), &opt, ckpt::Json::object(), {{"model.first.bias", &best}}),
      Catch::Contains("'model.first.bias' is taken twice"));
  hidden(1, 2) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(
      ckpt::save<float>(path, a.named(false), &opt, ckpt::Json::object(), {{"state.hidden", &hidden}}),
      Catch::Contains("'state.hidden' element 5 is inf"));
  CHECK(fs::file_size(path) == size);
  fs::remove(path);
}

// docs/checkpoints.md, "A model with its optimizer", as written there: a
// model of registered layers saved with Adam and loaded into fresh copies.
TEST_CASE("a model and its optimizer saved and loaded as docs/checkpoints.md shows", "[state][docs]") {
  struct Model : Module<float> {
    Model(Tape<float>& tape, Rng& rng) : head(tape, 3, 2, rng) { register_module("head", head); }
    Linear<float> head;
  };
  const fs::path path = temp_file("docs_model.safetensors");
  Tape<float> tape;
  Rng rng(5);
  Model model(tape, rng);
  tg::Adam<float> adam(model.parameters(), tg::AdamOptions().lr(1e-3));
  tape.backward(sum(model.head(tape.constant(Tensor<float>(xt::ones<float>({4, 3}))))));
  adam.step();
  tg::ckpt::save(path.string(), model.named_parameters(), &adam, {{"epoch", 3}});

  Rng other(6);
  Model again(tape, other);
  tg::Adam<float> adam2(again.parameters(), tg::AdamOptions().lr(1e-3));
  nlohmann::json meta = tg::ckpt::load(path.string(), again.named_parameters(), &adam2);
  CHECK(meta.at("epoch") == 3);
  const bool same_weight = again.head.weight.value() == model.head.weight.value();
  CHECK(same_weight);
  CHECK(adam2.steps() == 1);
  Model weights_only(tape, other);
  tg::ckpt::load<float>(path.string(), weights_only.named_parameters(), nullptr);
  const bool same_bias = weights_only.head.bias.value() == model.head.bias.value();
  CHECK(same_bias);
}

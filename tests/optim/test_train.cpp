// End to end: fit a least-squares model y = X w + c built with the tape, with
// every optimizer in the usual loop (forward, backward, clip, step,
// zero_grad, clear). The data are noiseless, so the loss can go to ~0.
#include "helpers.hpp"

using namespace tg;
using namespace tg::test;

namespace {

// Returns (first loss, last loss) after `steps` updates.
std::pair<double, double> fit(const Factory& make, int steps) {
  Tape<double> tape;
  Rng rng(5);
  const Tensor<double> X = uniform<double>({64, 3}, -1, 1, rng);
  const double w_true[3] = {1.5, -2.0, 0.5}, c_true = 0.3;
  Tensor<double> y = Tensor<double>::from_shape({64, 1});
  for (std::size_t i = 0; i < 64; ++i)
    y(i, 0) = X(i, 0) * w_true[0] + X(i, 1) * w_true[1] + X(i, 2) * w_true[2] + c_true;

  Var<double> w = tape.parameter(zeros<double>(Shape{3, 1}));
  Var<double> c = tape.parameter(zeros<double>(Shape{1}));
  auto opt = make({w, c});
  double first = 0, last = 0;
  for (int s = 0; s <= steps; ++s) {
    Var<double> loss = mse(matmul(tape.constant(X), w) + c, tape.constant(y));
    (s == 0 ? first : last) = loss.item();
    if (s == steps) break;
    tape.backward(loss);
    clip_grad_norm(opt->params(), 10.0);
    opt->step();
    opt->zero_grad();
    tape.clear();
  }
  return {first, last};
}

}  // namespace

TEST_CASE("every optimizer fits a small least-squares model", "[train]") {
  const std::vector<std::pair<const char*, Factory>> cases = {
      {"sgd", [](auto ps) { return std::make_unique<SGD<double>>(ps, 0.1); }},
      {"sgd+nesterov", [](auto ps) { return std::make_unique<SGD<double>>(ps, SGDOptions(0.05).momentum(0.9).nesterov(true)); }},
      {"adam", [](auto ps) { return std::make_unique<Adam<double>>(ps, 0.05); }},
      {"adamw",
       [](auto ps) { return std::make_unique<AdamW<double>>(ps, AdamWOptions(0.05).weight_decay(1e-4)); }},
      {"rmsprop", [](auto ps) { return std::make_unique<RMSprop<double>>(ps, 0.01); }},
      {"rmsprop+momentum",
       [](auto ps) { return std::make_unique<RMSprop<double>>(ps, RMSpropOptions(0.005).momentum(0.9)); }},
      {"adagrad", [](auto ps) { return std::make_unique<Adagrad<double>>(ps, 0.5); }},
  };
  for (const auto& [name, make] : cases) {
    const auto [first, last] = fit(make, 300);
    INFO(name << ": loss " << first << " -> " << last);
    REQUIRE(first > 1.0);
    REQUIRE(last < first / 1000);
  }
}

// Adam, AdamW, RMSprop and Adagrad against steps computed by hand, and the
// skipping of parameters without a gradient. Throughout: p0 = (1, -2),
// gradients g1 = (0.5, -1), g2 = (1, 2). Expected values are written as the
// arithmetic itself; sqrt and division are left to the machine.
#include "helpers.hpp"

using namespace tg;
using namespace tg::test;

TEST_CASE("adam: two bias-corrected steps", "[adam]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  Adam<double> opt({p}, 0.1);  // b1 0.9, b2 0.999, eps 1e-8
  // m = 0.1 g1 = (0.05, -0.1), v = 0.001 g1^2 = (0.00025, 0.001);
  // 1 - b1 = 0.1 and 1 - b2 = 0.001 undo those factors: m_hat = g1, v_hat = g1^2.
  set_grad(p, 0.5, -1);
  opt.step();
  const double p1a = 1 - 0.1 * 0.5 / (0.5 + 1e-8), p1b = -2 + 0.1 * 1 / (1 + 1e-8);
  require_near(p, p1a, p1b);
  // m = 0.9 (0.05, -0.1) + 0.1 (1, 2) = (0.145, 0.11)
  // v = 0.999 (0.00025, 0.001) + 0.001 (1, 4) = (0.00124975, 0.004999)
  // 1 - 0.9^2 = 0.19, 1 - 0.999^2 = 0.001999
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, p1a - 0.1 * (0.145 / 0.19) / (std::sqrt(0.00124975 / 0.001999) + 1e-8),
               p1b - 0.1 * (0.11 / 0.19) / (std::sqrt(0.004999 / 0.001999) + 1e-8));
}

TEST_CASE("adam: weight decay is L2 folded into the gradient", "[adam]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  Adam<double> opt({p}, AdamOptions(0.1).weight_decay(0.1));
  // g = g1 + 0.1 p0 = (0.6, -1.2); m_hat = g, v_hat = g^2 as before.
  set_grad(p, 0.5, -1);
  opt.step();
  const double p1a = 1 - 0.1 * 0.6 / (0.6 + 1e-8), p1b = -2 + 0.1 * 1.2 / (1.2 + 1e-8);
  require_near(p, p1a, p1b);
  // g = g2 + 0.1 p1; m1 = (0.06, -0.12), v1 = 0.001 (0.36, 1.44)
  const double ga = 1 + 0.1 * p1a, gb = 2 + 0.1 * p1b;
  const double ma = 0.9 * 0.06 + 0.1 * ga, mb = 0.9 * -0.12 + 0.1 * gb;
  const double va = 0.999 * 0.00036 + 0.001 * ga * ga, vb = 0.999 * 0.00144 + 0.001 * gb * gb;
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, p1a - 0.1 * (ma / 0.19) / (std::sqrt(va / 0.001999) + 1e-8),
               p1b - 0.1 * (mb / 0.19) / (std::sqrt(vb / 0.001999) + 1e-8));
}

TEST_CASE("adamw: decoupled decay shrinks p, moments see the raw gradient", "[adam]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  AdamW<double> opt({p}, AdamWOptions(0.1).weight_decay(0.1));
  // p *= 1 - 0.1 * 0.1 = 0.99, then the plain Adam step of the first test.
  set_grad(p, 0.5, -1);
  opt.step();
  const double p1a = 0.99 * 1 - 0.1 * 0.5 / (0.5 + 1e-8);
  const double p1b = 0.99 * -2 + 0.1 * 1 / (1 + 1e-8);
  require_near(p, p1a, p1b);
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, 0.99 * p1a - 0.1 * (0.145 / 0.19) / (std::sqrt(0.00124975 / 0.001999) + 1e-8),
               0.99 * p1b - 0.1 * (0.11 / 0.19) / (std::sqrt(0.004999 / 0.001999) + 1e-8));
}

TEST_CASE("adamw: same as adam without decay, different with it", "[adam]") {
  AdamW<double> probe({}, 1e-3);
  REQUIRE(probe.weight_decay() == 1e-2);  // PyTorch's AdamW default
  Tape<double> tape;
  Rng rng(7);
  const Tensor<double> init = uniform<double>({3, 4}, -1, 1, rng);
  auto run = [&](Optimizer<double>& opt, Var<double>& p) {
    Rng grads(11);
    for (int s = 0; s < 3; ++s) {
      p.zero_grad();
      p.node()->accumulate(uniform<double>({3, 4}, -1, 1, grads));
      opt.step();
    }
  };
  Var<double> a = tape.parameter(init), b = tape.parameter(init);
  Adam<double> adam({a}, 0.01);
  AdamW<double> adamw({b}, AdamWOptions(0.01).weight_decay(0.0));
  run(adam, a);
  run(adamw, b);
  REQUIRE(same(a.value(), b.value()));  // identical arithmetic when wd = 0

  Var<double> c = tape.parameter(init), d = tape.parameter(init);
  Adam<double> l2({c}, AdamOptions(0.01).weight_decay(0.5));
  AdamW<double> dec({d}, AdamWOptions(0.01).weight_decay(0.5));
  run(l2, c);
  run(dec, d);
  const double gap = xt::amax(xt::abs(c.value() - d.value()))();
  REQUIRE(gap > 1e-4);
}

TEST_CASE("rmsprop: two steps", "[rmsprop]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  RMSprop<double> opt({p}, 0.01);  // alpha 0.99, eps 1e-8
  // s = 0.01 g1^2 = (0.0025, 0.01), sqrt(s) = (0.05, 0.1)
  set_grad(p, 0.5, -1);
  opt.step();
  const double p1a = 1 - 0.01 * 0.5 / (0.05 + 1e-8), p1b = -2 + 0.01 * 1 / (0.1 + 1e-8);
  require_near(p, p1a, p1b);
  // s = 0.99 (0.0025, 0.01) + 0.01 (1, 4) = (0.012475, 0.0499)
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, p1a - 0.01 * 1 / (std::sqrt(0.012475) + 1e-8),
               p1b - 0.01 * 2 / (std::sqrt(0.0499) + 1e-8));
}

TEST_CASE("rmsprop: momentum and weight decay", "[rmsprop]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  RMSprop<double> opt({p}, RMSpropOptions(0.01).momentum(0.9).weight_decay(0.1));
  // g = g1 + 0.1 p0 = (0.6, -1.2); s = 0.01 g^2 = (0.0036, 0.0144), sqrt = (0.06, 0.12)
  // b1 = g / (sqrt(s) + eps) (the buffer starts at 0); p1 = p0 - 0.01 b1
  set_grad(p, 0.5, -1);
  opt.step();
  const double b1a = 0.6 / (0.06 + 1e-8), b1b = -1.2 / (0.12 + 1e-8);
  const double p1a = 1 - 0.01 * b1a, p1b = -2 - 0.01 * b1b;
  require_near(p, p1a, p1b);
  // g = g2 + 0.1 p1; s = 0.99 s1 + 0.01 g^2; b2 = 0.9 b1 + g / (sqrt(s) + eps)
  const double ga = 1 + 0.1 * p1a, gb = 2 + 0.1 * p1b;
  const double sa = 0.99 * 0.0036 + 0.01 * ga * ga, sb = 0.99 * 0.0144 + 0.01 * gb * gb;
  const double b2a = 0.9 * b1a + ga / (std::sqrt(sa) + 1e-8);
  const double b2b = 0.9 * b1b + gb / (std::sqrt(sb) + 1e-8);
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, p1a - 0.01 * b2a, p1b - 0.01 * b2b);
}

TEST_CASE("adagrad: two steps, with and without weight decay", "[adagrad]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2), q = param2(tape, 1, -2);
  Adagrad<double> opt({p}, 0.1);  // eps 1e-10
  Adagrad<double> wd({q}, AdagradOptions(0.1).weight_decay(0.1));
  // p: s = g1^2 = (0.25, 1)
  set_grad(p, 0.5, -1);
  opt.step();
  const double p1a = 1 - 0.1 * 0.5 / (0.5 + 1e-10), p1b = -2 + 0.1 * 1 / (1 + 1e-10);
  require_near(p, p1a, p1b);
  // p: s = (0.25 + 1, 1 + 4) = (1.25, 5)
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, p1a - 0.1 * 1 / (std::sqrt(1.25) + 1e-10),
               p1b - 0.1 * 2 / (std::sqrt(5.0) + 1e-10));
  // q: g = g1 + 0.1 q0 = (0.6, -1.2), s = (0.36, 1.44)
  set_grad(q, 0.5, -1);
  wd.step();
  const double q1a = 1 - 0.1 * 0.6 / (0.6 + 1e-10), q1b = -2 + 0.1 * 1.2 / (1.2 + 1e-10);
  require_near(q, q1a, q1b);
  // q: g = g2 + 0.1 q1, s = s1 + g^2
  const double ga = 1 + 0.1 * q1a, gb = 2 + 0.1 * q1b;
  set_grad(q, 1, 2);
  wd.step();
  require_near(q, q1a - 0.1 * ga / (std::sqrt(0.36 + ga * ga) + 1e-10),
               q1b - 0.1 * gb / (std::sqrt(1.44 + gb * gb) + 1e-10));
}

TEST_CASE("every optimizer skips parameters without a gradient", "[skip]") {
  for (const auto& [name, make] : all_optimizers()) {
    INFO(name);
    Tape<double> tape;
    Var<double> a = param2(tape, 1, -2), b = param2(tape, 3, 4);
    auto opt = make({a, b});
    set_grad(a, 0.5, -1);  // b has none
    opt->step();
    REQUIRE_FALSE(same(a.value(), Tensor<double>{1, -2}));
    REQUIRE(same(b.value(), Tensor<double>{3, 4}));
    opt->zero_grad();
    REQUIRE_FALSE(a.has_grad());
    const Tensor<double> a1 = a.value();
    opt->step();  // nothing has a gradient: nothing moves, the step still counts
    REQUIRE(same(a.value(), a1));
    REQUIRE(same(b.value(), Tensor<double>{3, 4}));
    REQUIRE(opt->steps() == 2);
  }
}

TEST_CASE("adam: a skipped parameter's first update is bias-corrected as step 1", "[skip]") {
  // PyTorch counts steps per parameter. b first gets a gradient at the
  // optimizer's 2nd step, so its update is the step-1 form
  // lr g / (|g| + eps); with a global count (t = 2) it would be
  // 0.1 (0.05 / 0.19) / (sqrt(0.00025 / 0.001999) + 1e-8) = 0.0744.
  Tape<double> tape;
  Var<double> a = param2(tape, 1, -2), b = param2(tape, 3, 4);
  Adam<double> opt({a, b}, 0.1);
  set_grad(a, 1, 1);
  opt.step();
  set_grad(b, 0.5, -1);
  opt.step();
  require_near(b, 3 - 0.1 * 0.5 / (0.5 + 1e-8), 4 + 0.1 * 1 / (1 + 1e-8));
}

TEST_CASE("optimizers also run in float", "[float]") {
  Tape<float> tape;
  Var<float> p = tape.parameter(Tensor<float>{1.f, -2.f});
  Adam<float> opt({p}, 0.1f);
  p.node()->accumulate(Tensor<float>{0.5f, -1.f});
  opt.step();
  REQUIRE(p.value()(0) == Approx(0.9f));
  REQUIRE(p.value()(1) == Approx(-1.9f));
}

// Gradient clipping and learning-rate schedules.
#include "helpers.hpp"

using namespace tg;
using namespace tg::test;

namespace {
Var<double> scalar_with_grad(Tape<double>& tape, double g) {
  Var<double> p = tape.parameter(Tensor<double>{0.0});
  p.node()->add_grad(Tensor<double>{g});
  return p;
}
}  // namespace

TEST_CASE("clip_grad_norm: one norm over all parameters", "[clip]") {
  Tape<double> tape;
  // Gradients 3 and 4 in two parameters: global norm sqrt(9 + 16) = 5.
  Var<double> a = scalar_with_grad(tape, 3), b = scalar_with_grad(tape, 4);
  Var<double> none = tape.parameter(Tensor<double>{7.0});  // no grad: ignored
  REQUIRE(clip_grad_norm<double>({a, b, none}, 1.0) == 5.0);  // the norm before clipping
  // Scaled by 1 / (5 + 1e-6): (0.6, 0.8) up to the 1e-6 guard.
  REQUIRE(std::abs(a.grad()(0) - 3 / (5 + 1e-6)) < 1e-15);
  REQUIRE(std::abs(b.grad()(0) - 4 / (5 + 1e-6)) < 1e-15);
  REQUIRE(std::abs(a.grad()(0) - 0.6) < 1e-6);
  REQUIRE(std::abs(b.grad()(0) - 0.8) < 1e-6);
  REQUIRE_FALSE(none.has_grad());
  // Now norm ~1 <= 10: untouched, and the norm is still reported.
  const double before = a.grad()(0);
  REQUIRE(std::abs(clip_grad_norm<double>({a, b}, 10.0) - 5 / (5 + 1e-6)) < 1e-15);
  REQUIRE(a.grad()(0) == before);
}

TEST_CASE("clip_grad_norm: elements of one tensor, in float", "[clip]") {
  Tape<float> tape;
  Var<float> p = tape.parameter(Tensor<float>{0.f, 0.f});
  p.node()->add_grad(Tensor<float>{3.f, -4.f});
  REQUIRE(clip_grad_norm<float>({p}, 2.5f) == 5.f);
  REQUIRE(p.grad()(0) == Approx(1.5f));  // 3 * 2.5 / 5
  REQUIRE(p.grad()(1) == Approx(-2.f));
  REQUIRE_THROWS_AS(clip_grad_norm<float>({p}, 0.f), Error);
}

TEST_CASE("clip_grad_value clamps each element", "[clip]") {
  Tape<double> tape;
  Var<double> p = tape.parameter(Tensor<double>{0, 0, 0, 0});
  p.node()->add_grad(Tensor<double>{-3, 0.5, 2, -1});
  clip_grad_value<double>({p}, 1.0);
  REQUIRE(same(p.grad(), Tensor<double>{-1, 0.5, 1, -1}));
  REQUIRE_THROWS_AS(clip_grad_value<double>({p}, -1.0), Error);
}

TEST_CASE("StepLR: lr = base gamma^floor(e / step_size)", "[schedule]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 0, 0);
  SGD<double> opt({p}, 1.0);
  StepLR<double> sched(opt, 2, 0.5);
  const double expected[] = {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125};
  REQUIRE(opt.lr() == expected[0]);
  for (int e = 1; e < 7; ++e) {
    sched.step();
    REQUIRE(sched.epoch() == std::size_t(e));
    REQUIRE(opt.lr() == expected[e]);
  }
  sched.set_epoch(2);  // resume
  REQUIRE(opt.lr() == 0.5);
  REQUIRE_THROWS_AS(StepLR<double>(opt, 0, 0.5), Error);
}

TEST_CASE("CosineLR: half a cosine from base to eta_min over T_max", "[schedule]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 0, 0);
  SGD<double> opt({p}, 1.1);
  CosineLR<double> sched(opt, 4, 0.1);
  // lr(e) = 0.1 + 1.0 (1 + cos(pi e / 4)) / 2; cos(pi/4) = sqrt(2)/2.
  const double r = std::sqrt(2.0) / 4;
  const double expected[] = {1.1, 0.6 + r, 0.6, 0.6 - r, 0.1, 0.6 - r};  // periodic past T_max
  REQUIRE(opt.lr() == expected[0]);
  for (int e = 1; e < 6; ++e) {
    sched.step();
    REQUIRE(std::abs(opt.lr() - expected[e]) < 1e-15);
  }
  REQUIRE_THROWS_AS(CosineLR<double>(opt, 0), Error);
}

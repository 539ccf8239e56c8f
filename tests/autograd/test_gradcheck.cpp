// The checker itself: it must fail on a wrong backward and say where.
#include "check.hpp"

using namespace tg;
using tg::test::rand_param;

namespace {
// A user-defined op, written against the public API: y = x^3 with a backward
// that is deliberately wrong by `error` (as if 3x^2 had been typed 3x^2 + e).
Var<double> cube_with_bug(const Var<double>& x, double error, std::size_t only_index = SIZE_MAX) {
  OpScope<double> op("cube_with_bug", {&x});
  Var<double> y = op.result(x.value() * x.value() * x.value());
  op.backward(y, [x = op.save(x), y = op.output(y), error, only_index] {
    Tensor<double> g = 3.0 * x.value() * x.value();
    if (only_index == SIZE_MAX) g += error;
    else g.data()[only_index] += error;
    x.accumulate(y.grad() * g);
  });
  return y;
}

// y = 2x for a 2-element x, with a backward that swaps the two gradients.
Var<double> swapped_double(const Var<double>& x) {
  OpScope<double> op("swapped", {&x});
  Var<double> y = op.result(Tensor<double>(2.0 * x.value()));
  op.backward(y, [x = op.input(x), y = op.output(y)] {
    x.accumulate(Tensor<double>{2.0 * y.grad()(1), 2.0 * y.grad()(0)});
  });
  return y;
}
}  // namespace

TEST_CASE("gradcheck passes a correct user op and fails a wrong one", "[gradcheck]") {
  Tape<double> tape;
  Rng rng(1);
  Var<double> x = rand_param(tape, {3, 4}, rng);
  GradcheckResult good = gradcheck(tape, {x}, [&] { return cube_with_bug(x, 0.0); });
  INFO(good.report());
  REQUIRE(good.ok);
  REQUIRE(good.elements_checked == 12);
  REQUIRE(good.max_abs_error < 1e-8);

  // One element off by 1e-4: tight tolerances catch it and point at it.
  GradcheckResult bad = gradcheck(tape, {x}, [&] { return cube_with_bug(x, 1e-4, 7); });
  REQUIRE_FALSE(bad.ok);
  REQUIRE(bad.worst_input == 0);
  REQUIRE(bad.worst_index == 7);
  REQUIRE_THAT(bad.report(), Catch::Contains("FAILED") && Catch::Contains("element 7"));
}

TEST_CASE("gradcheck catches an error that a plain sum would hide", "[gradcheck]") {
  // A backward that swaps the gradients of two outputs' inputs is invisible
  // under sum(out) when both outputs have equal weight; the checker's random
  // weights expose it.
  Tape<double> tape;
  Var<double> x = tape.parameter(Tensor<double>{0.3, -0.7});
  auto swapped = [&] { return swapped_double(x); };
  REQUIRE_FALSE(gradcheck(tape, {x}, swapped).ok);
}

TEST_CASE("gradcheck reports inputs that cannot be checked", "[gradcheck]") {
  Tape<double> tape;
  Var<double> c = tape.constant(Tensor<double>{1.0});
  REQUIRE_THROWS_WITH(gradcheck(tape, {c}, [&] { return c * 2.0; }),
                      Catch::Contains("input 0 does not require grad"));
}

TEST_CASE("gradcheck, full Jacobian: every entry, and the wrong one named", "[gradcheck][jacobian]") {
  Tape<double> tape;
  Rng rng(2);
  Var<double> x = rand_param(tape, {3, 4}, rng);
  Var<double> w = rand_param(tape, {4, 2}, rng);
  GradcheckOptions jac;
  jac.mode = GradcheckMode::jacobian;
  GradcheckResult good = gradcheck(tape, {x, w}, [&] { return tanh(matmul(x, w)); }, jac);
  INFO(good.report());
  REQUIRE(good.ok);
  REQUIRE(good.outputs == 6);
  REQUIRE(good.elements_checked == 20);
  REQUIRE(good.entries_checked == 120);
  REQUIRE_THAT(good.report(), Catch::Contains("full Jacobian: 6 outputs x 20 input elements = 120 entries") &&
                                  Catch::Contains("atol + rtol * max(|analytic|, |numeric|)") &&
                                  Catch::Contains("atol 1e-07, rtol 1e-05"));
  REQUIRE_FALSE(x.has_grad());  // left zeroed

  // One element of cube's derivative off by 1e-4: the entry (output 7, element 7).
  GradcheckResult bad = gradcheck(tape, {x}, [&] { return cube_with_bug(x, 1e-4, 7); }, jac);
  REQUIRE_FALSE(bad.ok);
  REQUIRE(bad.worst_output == 7);
  REQUIRE(bad.worst_index == 7);
  REQUIRE_THAT(bad.report(), Catch::Contains("FAILED") && Catch::Contains("output 7, input 0 element 7"));
}

TEST_CASE("gradcheck, full Jacobian: catches swapped gradients", "[gradcheck][jacobian]") {
  Tape<double> tape;
  Var<double> x = tape.parameter(Tensor<double>{0.3, -0.7});
  auto swapped = [&] { return swapped_double(x); };
  GradcheckOptions jac;
  jac.mode = GradcheckMode::jacobian;
  GradcheckResult r = gradcheck(tape, {x}, swapped, jac);
  REQUIRE_FALSE(r.ok);
  // Every entry is off by 2 (the diagonal is 0 instead of 2, the other
  // entries 2 instead of 0).
  REQUIRE(r.max_abs_error == Approx(2.0));
  REQUIRE(r.worst_output < 2);
  REQUIRE(r.worst_index < 2);
  REQUIRE(std::abs(r.worst_analytic - r.worst_numeric) == Approx(2.0));
  const double expected = r.worst_output == r.worst_index ? 2.0 : 0.0;
  REQUIRE(r.worst_numeric == Approx(expected).margin(1e-6));
}

TEST_CASE("gradcheck, projection mode: the report says so", "[gradcheck]") {
  Tape<double> tape;
  Rng rng(3);
  Var<double> x = rand_param(tape, {5}, rng);
  GradcheckResult r = gradcheck(tape, {x}, [&] { return exp(x); });
  REQUIRE(r.ok);
  REQUIRE(r.mode == GradcheckMode::projection);
  REQUIRE(r.entries_checked == 5);
  REQUIRE_THAT(r.report(), Catch::Contains("random projection of 5 outputs: 5 input elements") &&
                               Catch::Contains("atol + rtol"));
}

TEST_CASE("gradcheck fails an input f's output does not reach, unless allowed", "[gradcheck][unused]") {
  for (GradcheckMode mode : {GradcheckMode::projection, GradcheckMode::jacobian}) {
    Tape<double> tape;
    Rng rng(4);
    Var<double> x = rand_param(tape, {3}, rng), unused = rand_param(tape, {2}, rng);
    GradcheckOptions opt;
    opt.mode = mode;
    GradcheckResult r = gradcheck(tape, {x, unused}, [&] { return tanh(x); }, opt);
    REQUIRE_FALSE(r.ok);
    REQUIRE(r.unused_inputs == std::vector<std::size_t>{1});
    REQUIRE_THAT(r.report(), Catch::Contains("input 1 is not reached from f's output") &&
                                 !Catch::Contains("warning"));
    opt.allow_unused = true;
    r = gradcheck(tape, {x, unused}, [&] { return tanh(x); }, opt);
    REQUIRE(r.ok);
    REQUIRE_THAT(r.report(), Catch::Contains("warning: input 1 is not reached"));
    // No input reached at all: the output does not even require grad.
    opt.allow_unused = false;
    r = gradcheck(tape, {x}, [&] { return tape.constant(Tensor<double>{1.0, 2.0}) * 2.0; }, opt);
    REQUIRE_FALSE(r.ok);
    REQUIRE(r.unused_inputs == std::vector<std::size_t>{0});
  }
}

TEST_CASE("gradcheck fails when f uses graph built outside it (a wrong gradient passed so)",
          "[gradcheck][stale]") {
  for (GradcheckMode mode : {GradcheckMode::projection, GradcheckMode::jacobian}) {
    Tape<double> tape;
    Rng rng(5);
    Var<double> x = rand_param(tape, {4}, rng);
    GradcheckOptions opt;
    opt.mode = mode;
    // The wrong op built once, outside f: to both sides it is a constant.
    Var<double> h = cube_with_bug(x, 1.0);
    GradcheckResult r = gradcheck(tape, {x}, [&] { return h * 2.0; }, opt);
    INFO(r.report());
    REQUIRE_FALSE(r.ok);
    REQUIRE_THAT(r.stale, Catch::Contains("op 'mul_scalar'") && Catch::Contains("(4,)"));
    REQUIRE_THAT(r.report(), Catch::Contains("built outside") && Catch::Contains("inside f"));
    // Part of the graph outside, part inside: x is reached, the check still fails.
    Var<double> g = tanh(x);
    r = gradcheck(tape, {x}, [&] { return g * x; }, opt);
    REQUIRE_FALSE(r.ok);
    REQUIRE(r.unused_inputs.empty());
    REQUIRE_THAT(r.stale, Catch::Contains("input 0") && Catch::Contains("op 'mul'"));
    // Built inside f, the wrong gradient is caught as a wrong gradient.
    r = gradcheck(tape, {x}, [&] { return cube_with_bug(x, 1.0) * 2.0; }, opt);
    REQUIRE_FALSE(r.ok);
    REQUIRE(r.stale.empty());
    // And the tape no longer watches after the check.
    Var<double> later = g * 3.0;
    REQUIRE(tape.stale_input().empty());
    (void)later;
  }
}

// The checker itself: it must fail on a wrong backward and say where.
#include "check.hpp"

using namespace tg;
using tg::test::rand_param;

namespace {
// A user-defined op, written against the public API: y = x^3 with a backward
// that is deliberately wrong by `error` (as if 3x^2 had been typed 3x^2 + e).
Var<double> cube_with_bug(const Var<double>& x, double error, std::size_t only_index = SIZE_MAX) {
  Tape<double>& tape = tape_of("cube_with_bug", {&x});
  Var<double> y = tape.result(x.value() * x.value() * x.value(), x.requires_grad());
  tape.record(y, [x = x.node(), y = y.node(), error, only_index] {
    Tensor<double> g = 3.0 * x->value * x->value;
    if (only_index == SIZE_MAX) g += error;
    else g.data()[only_index] += error;
    x->add_grad(y->grad * g);
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
  auto swapped = [&] {
    Tape<double>& t = tape_of("swapped", {&x});
    Var<double> y = t.result(Tensor<double>(2.0 * x.value()), true);
    t.record(y, [x = x.node(), y = y.node()] {
      x->add_grad(Tensor<double>{2.0 * y->grad(1), 2.0 * y->grad(0)});
    });
    return y;
  };
  REQUIRE_FALSE(gradcheck(tape, {x}, swapped).ok);
}

TEST_CASE("gradcheck reports inputs that cannot be checked", "[gradcheck]") {
  Tape<double> tape;
  Var<double> c = tape.constant(Tensor<double>{1.0});
  REQUIRE_THROWS_WITH(gradcheck(tape, {c}, [&] { return c * 2.0; }),
                      Catch::Contains("input 0 does not require grad"));
}

// Float64 gradient checks of the reductions, softmax and the losses.
#include <xtensor/xview.hpp>

#include "check.hpp"

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

TEST_CASE("sum and mean over all and over an axis", "[ops][reduce]") {
  for (std::uint64_t seed : {1, 2}) {
    Tape<double> tape;
    Rng rng(seed);
    Var<double> a = rand_param(tape, {2, 3, 4}, rng);
    REQUIRE(sum(a).item() == Approx(xt::sum(a.value())()));
    REQUIRE(mean(a).item() == Approx(xt::mean(a.value())()));
    require_gradcheck(tape, {a}, [&] { return sum(a); });
    require_gradcheck(tape, {a}, [&] { return mean(a); });
    for (int axis : {0, 1, 2, -1})
      for (bool keep : {false, true}) {
        INFO("axis " << axis << " keepdims " << keep);
        Var<double> s = sum(a, axis, keep);
        REQUIRE(s.dim() == (keep ? 3u : 2u));
        require_gradcheck(tape, {a}, [&] { return sum(a, axis, keep); });
        require_gradcheck(tape, {a}, [&] { return mean(a, axis, keep); });
      }
    REQUIRE(mean(a, 1).value()(1, 2) ==
            Approx((a.value()(1, 0, 2) + a.value()(1, 1, 2) + a.value()(1, 2, 2)) / 3));
  }
}

TEST_CASE("max over an axis: value and gradient to the maximum", "[ops][reduce]") {
  Tape<double> tape;
  Rng rng(3);
  Var<double> a = rand_param(tape, {3, 4, 2}, rng);  // distinct values: no ties
  for (int axis : {0, 1, 2})
    for (bool keep : {false, true}) {
      INFO("axis " << axis);
      require_gradcheck(tape, {a}, [&] { return max(a, axis, keep); });
    }
  Var<double> m = max(a, 1);
  REQUIRE(m.value()(2, 1) == xt::amax(xt::view(a.value(), 2, xt::all(), 1))());
}

TEST_CASE("softmax and log_softmax: stable and gradchecked", "[ops][loss]") {
  Tape<double> tape;
  Rng rng(4);
  Var<double> a = rand_param(tape, {3, 5}, rng, -3, 3);
  Var<double> big = tape.parameter(Tensor<double>{{1000.0, 1001.0, 999.0}});
  Var<double> p = softmax(big);
  REQUIRE(xt::all(xt::isfinite(p.value())));
  REQUIRE(xt::sum(p.value())() == Approx(1.0));
  REQUIRE(log_softmax(big).value()(0, 1) == Approx(-std::log(1 + std::exp(-1.0) + std::exp(-2.0))));
  for (int axis : {0, 1}) {
    require_gradcheck(tape, {a}, [&] { return softmax(a, axis); });
    require_gradcheck(tape, {a}, [&] { return log_softmax(a, axis); });
  }
  Var<double> b = rand_param(tape, {2, 3, 4}, rng);
  require_gradcheck(tape, {b}, [&] { return softmax(b, 1); });
}

TEST_CASE("cross_entropy: value, weights that mask, gradcheck", "[ops][loss]") {
  Tape<double> tape;
  Rng rng(5);
  Var<double> x = rand_param(tape, {4, 3}, rng, -2, 2);
  std::vector<std::int64_t> t = {0, 2, 1, 2};
  double expected = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    double lse = 0;
    for (std::size_t c = 0; c < 3; ++c) lse += std::exp(x.value()(i, c));
    expected += std::log(lse) - x.value()(i, t[i]);
  }
  REQUIRE(cross_entropy(x, t).item() == Approx(expected / 4));
  require_gradcheck(tape, {x}, [&] { return cross_entropy(x, t); });
  // Weight 0 masks a padded row: its (invalid) target is never read.
  std::vector<std::int64_t> padded = {0, 2, -1, 2};
  std::vector<double> mask = {1, 1, 0, 1};
  require_gradcheck(tape, {x}, [&] { return cross_entropy(x, padded, mask); });
  tape.clear();
  x.zero_grad();
  tape.backward(cross_entropy(x, padded, mask));
  REQUIRE(xt::all(xt::equal(xt::view(x.grad(), 2, xt::all()), 0.0)));
  // Time-major logits (T, B, C) with per-position weights.
  Var<double> seq = rand_param(tape, {3, 2, 4}, rng);
  std::vector<std::int64_t> st = {1, 0, 3, 2, 0, 1};
  std::vector<double> sw = {1, 1, 1, 0.5, 1, 0};
  require_gradcheck(tape, {seq}, [&] { return cross_entropy(seq, st, sw); });
  Var<double> huge = tape.parameter(Tensor<double>{{1e4, -1e4}});
  REQUIRE(std::isfinite(cross_entropy(huge, {1}).item()));
}

TEST_CASE("bce_with_logits: stable, weighted, gradchecked", "[ops][loss]") {
  Tape<double> tape;
  Rng rng(6);
  Var<double> x = rand_param(tape, {5, 2}, rng, -3, 3);
  Tensor<double> t = xt::where(uniform<double>(Shape{5, 2}, 0, 1, rng) < 0.5, 1.0, 0.0);
  double expected = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    const double p = 1 / (1 + std::exp(-x.value().data()[i]));
    expected -= t.data()[i] * std::log(p) + (1 - t.data()[i]) * std::log(1 - p);
  }
  REQUIRE(bce_with_logits(x, t).item() == Approx(expected / 10));
  require_gradcheck(tape, {x}, [&] { return bce_with_logits(x, t); });
  std::vector<double> w = {1, 0, 1, 1, 2, 1, 0, 1, 1, 1};
  require_gradcheck(tape, {x}, [&] { return bce_with_logits(x, t, w); });
  Var<double> huge = tape.parameter(Tensor<double>{800.0, -800.0});
  REQUIRE(bce_with_logits(huge, Tensor<double>{0.0, 1.0}).item() == Approx(800.0));
}

TEST_CASE("mse: value and gradcheck on both sides", "[ops][loss]") {
  Tape<double> tape;
  Rng rng(7);
  Var<double> a = rand_param(tape, {3, 4}, rng);
  Var<double> b = rand_param(tape, {3, 4}, rng);
  REQUIRE(mse(a, b).item() == Approx(xt::mean(xt::square(a.value() - b.value()))()));
  require_gradcheck(tape, {a, b}, [&] { return mse(a, b); });
}

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

TEST_CASE("logsumexp: against its composition, stable, gradchecked", "[ops][reduce]") {
  for (std::uint64_t seed : {1, 2}) {
    Tape<double> tape;
    Rng rng(seed);
    Var<double> a = rand_param(tape, {2, 3, 4}, rng, -3, 3);
    for (int axis : {0, 1, 2, -1})
      for (bool keep : {false, true}) {
        INFO("axis " << axis << " keepdims " << keep);
        Var<double> y = logsumexp(a, axis, keep);
        REQUIRE(xt::allclose(y.value(), log(sum(exp(a), axis, keep)).value(), 1e-13, 1e-14));
        require_gradcheck(tape, {a}, [&] { return logsumexp(a, axis, keep); });
      }
  }
  Tape<double> tape;
  const double inf = std::numeric_limits<double>::infinity();
  Var<double> big = tape.parameter(Tensor<double>{{1000.0, 1000.0}, {-1000.0, -1001.0}, {-inf, -inf}});
  Var<double> y = logsumexp(big, 1);
  REQUIRE(y.value()(0) == Approx(1000.0 + std::log(2.0)));     // exp(1000) would overflow
  REQUIRE(y.value()(1) == Approx(-1000.0 + std::log1p(std::exp(-1.0))));  // exp(-1000) would underflow
  REQUIRE(y.value()(2) == -inf);
  tape.backward(sum(slice(y, 0, 0, 2)) + sum(slice(y, 0, 2, 3)) * 0.0);
  REQUIRE(big.grad()(0, 0) == Approx(0.5));
  REQUIRE(big.grad()(1, 0) == Approx(1 / (1 + std::exp(-1.0))));
  REQUIRE(big.grad()(2, 0) == 0.0);  // a row of -inf: no gradient (not NaN)
}

TEST_CASE("masked_softmax: masked entries 0, the rest a softmax, gradchecked", "[ops][loss][masked]") {
  for (std::uint64_t seed : {1, 2, 3}) {
    Tape<double> tape;
    Rng rng(seed);
    // Attention scores (B, Tq, T) with a padding mask (B, 1, T): lengths 4, 2, 1.
    Var<double> s = rand_param(tape, {3, 2, 4}, rng, -3, 3);
    Tensor<double> mask = tg::zeros<double>(Shape{3, 1, 4});
    const std::size_t lengths[3] = {4, 2, 1};
    for (std::size_t b = 0; b < 3; ++b)
      for (std::size_t t = 0; t < lengths[b]; ++t) mask(b, 0, t) = 1;
    Var<double> p = masked_softmax(s, mask);
    // The same as a softmax of the scores with -inf at the padding.
    const double inf = std::numeric_limits<double>::infinity();
    Var<double> ref = softmax(masked_fill(s, 1.0 - mask, -inf));
    REQUIRE(xt::allclose(p.value(), ref.value(), 1e-14, 1e-15));
    REQUIRE(p.value()(1, 1, 2) == 0.0);
    REQUIRE(p.value()(2, 0, 0) == 1.0);
    require_gradcheck(tape, {s}, [&] { return masked_softmax(s, mask); });
    // Along another axis, with a mask of the full shape.
    Tensor<double> full = xt::where(uniform<double>(Shape{3, 2, 4}, 0, 1, rng) < 0.7, 1.0, 0.0);
    full(0, 0, 0) = 1;
    require_gradcheck(tape, {s}, [&] { return masked_softmax(s, full, 0); });
  }
}

TEST_CASE("masked_softmax: a row with nothing kept is 0, not NaN, with no gradient", "[ops][loss][masked]") {
  Tape<double> tape;
  Var<double> s = tape.parameter(Tensor<double>{{1.0, 2.0, 3.0}, {1.0, 2.0, 3.0}});
  const Tensor<double> mask{{1.0, 1.0, 0.0}, {0.0, 0.0, 0.0}};
  Var<double> p = masked_softmax(s, mask);
  REQUIRE(p.value()(0, 0) == Approx(1 / (1 + std::exp(1.0))));
  REQUIRE(p.value()(0, 2) == 0.0);
  REQUIRE((xt::view(p.value(), 1) == Tensor<double>{0.0, 0.0, 0.0}));
  tape.backward(sum(p * tape.constant(Tensor<double>{{1.0, 3.0, 5.0}, {1.0, 3.0, 5.0}})));
  REQUIRE((xt::view(s.grad(), 1) == Tensor<double>{0.0, 0.0, 0.0}));
  REQUIRE(s.grad()(0, 2) == 0.0);
  REQUIRE(std::isfinite(s.grad()(0, 0)));
  // Where softmax over -inf fills gives NaN.
  const double inf = std::numeric_limits<double>::infinity();
  REQUIRE(std::isnan(softmax(masked_fill(s, 1.0 - mask, -inf)).value()(1, 0)));
  REQUIRE_THROWS_WITH(masked_softmax(s, Tensor<double>{1.0, 0.0}), Catch::Contains("masked_softmax"));
  REQUIRE_THROWS_WITH(masked_softmax(s, tg::zeros<double>(Shape{2, 2, 3})),
                      Catch::Contains("does not broadcast to (2, 3)"));
}

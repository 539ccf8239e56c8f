// Float64 gradient checks of every elementwise op, over several seeds and
// shapes, with broadcasting and extent-1 axes.
#include "check.hpp"

using namespace tg;
using tg::test::rand_param;
using tg::test::rand_param_off;
using tg::test::require_gradcheck;

namespace {
// Pairs of shapes that broadcast: equal, trailing, extent-1 on either side.
const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{4}, {3, 4}}, {{3, 1}, {1, 4}},
    {{2, 3, 4}, {3, 1}}, {{1}, {2, 3}}, {{5}, {}},
};

// Values on a grid of step 0.1 shifted by `offset`: a grid at 0.05 and one at
// 0 never come closer than 0.05, so maximum/minimum are checked off ties.
Var<double> grid_param(Tape<double>& tape, const Shape& shape, Rng& rng, double offset) {
  Tensor<double> v = uniform<double>(shape, -1, 1, rng);
  for (auto& x : v) x = std::floor(x * 10) / 10 + offset;
  return tape.parameter(v);
}
}  // namespace

TEST_CASE("binary ops with broadcasting (maximum, minimum off ties): gradcheck", "[ops][elementwise]") {
  for (std::uint64_t seed : {1, 2, 3})
    for (const auto& [sa, sb] : kBroadcastPairs) {
      Tape<double> tape;
      Rng rng(seed);
      Var<double> a = rand_param(tape, sa, rng);
      Var<double> b = rand_param(tape, sb, rng);
      Var<double> bpos = rand_param(tape, sb, rng, 0.5, 2.0);  // divisor away from 0
      INFO("seed " << seed << " shapes " << shape_str(sa) << " " << shape_str(sb));
      require_gradcheck(tape, {a, b}, [&] { return a + b; });
      require_gradcheck(tape, {a, b}, [&] { return a - b; });
      require_gradcheck(tape, {a, b}, [&] { return a * b; });
      require_gradcheck(tape, {a, bpos}, [&] { return a / bpos; });
      // maximum and minimum, off ties.
      Var<double> ga = grid_param(tape, sa, rng, 0.05), gb = grid_param(tape, sb, rng, 0.0);
      require_gradcheck(tape, {ga, gb}, [&] { return maximum(ga, gb); });
      require_gradcheck(tape, {ga, gb}, [&] { return minimum(ga, gb); });
      Shape expected = broadcast_shape("test", sa, sb);
      REQUIRE(to_shape((a + b).shape()) == expected);
    }
}

TEST_CASE("add, sub, mul with one side constant or the same value twice: gradcheck", "[ops][elementwise]") {
  // The backwards hand a spent gradient on without a copy where only one
  // side needs it; these are the cases where that matters.
  for (const auto& [sa, sb] : kBroadcastPairs) {
    Tape<double> tape;
    Rng rng(4);
    Var<double> a = rand_param(tape, sa, rng);
    Var<double> c = tape.constant(uniform<double>(sb, -1, 1, rng));
    INFO("shapes " << shape_str(sa) << " " << shape_str(sb));
    require_gradcheck(tape, {a}, [&] { return a + c; });
    require_gradcheck(tape, {a}, [&] { return c + a; });
    require_gradcheck(tape, {a}, [&] { return a - c; });
    require_gradcheck(tape, {a}, [&] { return c - a; });
    require_gradcheck(tape, {a}, [&] { return a * c; });
    require_gradcheck(tape, {a}, [&] { return c * a; });
  }
  Tape<double> tape;
  Rng rng(5);
  Var<double> a = rand_param(tape, {3, 4}, rng);
  require_gradcheck(tape, {a}, [&] { return a + a; });
  require_gradcheck(tape, {a}, [&] { return a - a * a; });
  require_gradcheck(tape, {a}, [&] { return a * a; });
  Var<double> b = rand_param(tape, {3, 4}, rng);
  require_gradcheck(tape, {a, b}, [&] { return (a + b) * (a - b); });  // mul keeps both factors
  // A chain whose intermediate values are released as it goes.
  Var<double> c = tape.constant(uniform<double>({3, 4}, 0.5, 1.5, rng));
  require_gradcheck(tape, {a}, [&] {
    Var<double> y = a;
    for (int k = 0; k < 12; ++k) y = k % 3 == 0 ? y * c : k % 3 == 1 ? c - y : y + a;
    return y;
  });
}

TEST_CASE("unary ops and activations: gradcheck", "[ops][elementwise][activations]") {
  for (std::uint64_t seed : {1, 2, 3})
    for (const Shape& s : {Shape{7}, Shape{3, 4}, Shape{2, 1, 3}}) {
      Tape<double> tape;
      Rng rng(seed);
      Var<double> a = rand_param(tape, s, rng, -2, 2);
      Var<double> pos = rand_param(tape, s, rng, 0.2, 3);
      Var<double> off0 = rand_param_off(tape, s, rng, 0.0);
      INFO("seed " << seed << " shape " << shape_str(s));
      require_gradcheck(tape, {a}, [&] { return -a; });
      require_gradcheck(tape, {a}, [&] { return a + 2.5; });
      require_gradcheck(tape, {a}, [&] { return 3.0 - a; });
      require_gradcheck(tape, {a}, [&] { return a * -1.5; });
      require_gradcheck(tape, {pos}, [&] { return 2.0 / pos; });
      require_gradcheck(tape, {a}, [&] { return exp(a); });
      require_gradcheck(tape, {pos}, [&] { return log(pos); });
      require_gradcheck(tape, {a}, [&] { return tanh(a); });
      require_gradcheck(tape, {a}, [&] { return sigmoid(a); });
      require_gradcheck(tape, {off0}, [&] { return relu(off0); });
      require_gradcheck(tape, {off0}, [&] { return abs(off0); });
      // The activations, over a wider range.
      Var<double> wide = rand_param(tape, s, rng, -4, 4);
      require_gradcheck(tape, {wide}, [&] { return softplus(wide); });
      require_gradcheck(tape, {wide}, [&] { return silu(wide); });
      require_gradcheck(tape, {wide}, [&] { return gelu(wide); });
      require_gradcheck(tape, {wide}, [&] { return gelu(wide, GeluApprox::tanh); });
      for (double slope : {0.01, 0.2, -0.5})
        require_gradcheck(tape, {off0}, [&] { return leaky_relu(off0, slope); });
      require_gradcheck(tape, {off0}, [&] { return leaky_relu(off0); });
      require_gradcheck(tape, {pos}, [&] { return pow(pos, 2.7); });
      require_gradcheck(tape, {a}, [&] { return pow(a, 3.0); });
      require_gradcheck(tape, {a}, [&] { return square(a); });
      require_gradcheck(tape, {pos}, [&] { return sqrt(pos); });
      // tan away from its poles at +-pi/2, and through an intermediate
      // input, which tan does not keep (its backward reads only y).
      Var<double> near0 = rand_param(tape, s, rng, -1.2, 1.2);
      require_gradcheck(tape, {near0}, [&] { return tan(near0); });
      require_gradcheck(tape, {near0}, [&] { return tan(near0 * 0.5) * near0; });
    }
}

TEST_CASE("clamp passes the gradient inside the bounds only", "[ops][elementwise]") {
  Tape<double> tape;
  Rng rng(4);
  Tensor<double> v = uniform<double>(Shape{4, 5}, -2, 2, rng);
  for (auto& x : v)  // off the kinks at -0.5 and 0.5
    for (double k : {-0.5, 0.5})
      if (std::abs(x - k) < 0.05) x = k + 0.1;
  Var<double> a = tape.parameter(v);
  require_gradcheck(tape, {a}, [&] { return clamp(a, -0.5, 0.5); });
  tape.clear();
  a.zero_grad();
  tape.backward(sum(clamp(a, -0.5, 0.5)));
  for (std::size_t i = 0; i < v.size(); ++i)
    REQUIRE(a.grad().data()[i] == (std::abs(v.data()[i]) < 0.5 ? 1.0 : 0.0));
  REQUIRE_THROWS_WITH(clamp(a, 1.0, -1.0), Catch::Contains("exceeds"));
}

TEST_CASE("relu's subgradient at 0 is 0", "[ops][elementwise]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{-1.0, 0.0, 2.0});
  tape.backward(sum(relu(a)));
  REQUIRE((a.grad() == Tensor<double>{0.0, 0.0, 1.0}));
}

TEST_CASE("where (with a scalar side too) and masked_fill route the gradient by the condition",
          "[ops][elementwise]") {
  for (std::uint64_t seed : {1, 2}) {
    Tape<double> tape;
    Rng rng(seed);
    Var<double> a = rand_param(tape, {3, 4}, rng);
    Var<double> b = rand_param(tape, {4}, rng);
    Tensor<double> cond = xt::where(uniform<double>(Shape{3, 1}, 0, 1, rng) < 0.5, 1.0, 0.0);
    cond(0, 0) = 1;
    cond(1, 0) = 0;
    require_gradcheck(tape, {a, b}, [&] { return tg::where(cond, a, b); });
    require_gradcheck(tape, {a}, [&] { return tg::where(cond, a, -2.0); });
    require_gradcheck(tape, {a}, [&] { return tg::where(cond, 0.5f, a); });
    require_gradcheck(tape, {a}, [&] { return masked_fill(a, cond, -5); });
    // The result takes the broadcast shape of the condition and the input.
    require_gradcheck(tape, {b}, [&] { return masked_fill(b, cond, 3); });
    REQUIRE(to_shape(masked_fill(b, cond, 3).shape()) == Shape{3, 4});
  }
}

TEST_CASE("dropout: scaled mask, seeded, identity in evaluation", "[ops][dropout]") {
  Tape<double> tape;
  Rng rng(5);
  Var<double> a = rand_param(tape, {50, 40}, rng);
  Rng r1(9), r2(9);
  Var<double> y1 = dropout(a, 0.25, true, r1);
  Var<double> y2 = dropout(a, 0.25, true, r2);
  REQUIRE((y1.value() == y2.value()));  // same seed, same mask
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double y = y1.value().data()[i];
    if (y == 0) ++zeros;
    else REQUIRE(y == Approx(a.value().data()[i] / 0.75));
  }
  REQUIRE(zeros > 350);  // 500 expected of 2000
  REQUIRE(zeros < 650);
  Var<double> e = dropout(a, 0.25, false, r1);
  REQUIRE(e.node() == a.node());
  // The backward uses the forward's mask: check it with a fixed seed per call.
  require_gradcheck(tape, {a}, [&] {
    Rng r(11);
    return dropout(a, 0.3, true, r);
  });
  REQUIRE_THROWS_WITH(dropout(a, 1.0, true, r1), Catch::Contains("not in [0, 1)"));
}


TEST_CASE("maximum and minimum: values, and ties split the gradient in halves", "[ops][elementwise]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{1.0, 2.0, 3.0});
  Var<double> b = tape.parameter(Tensor<double>{1.0, 0.0, 5.0});
  REQUIRE((maximum(a, b).value() == Tensor<double>{1.0, 2.0, 5.0}));
  REQUIRE((minimum(a, b).value() == Tensor<double>{1.0, 0.0, 3.0}));
  tape.backward(sum(maximum(a, b)));
  REQUIRE((a.grad() == Tensor<double>{0.5, 1.0, 0.0}));
  REQUIRE((b.grad() == Tensor<double>{0.5, 0.0, 1.0}));
  a.zero_grad();
  b.zero_grad();
  tape.backward(sum(minimum(a, b)));
  REQUIRE((a.grad() == Tensor<double>{0.5, 0.0, 1.0}));
  REQUIRE((b.grad() == Tensor<double>{0.5, 1.0, 0.0}));
  // One value on both sides: the halves add up to the derivative of x, 1.
  a.zero_grad();
  tape.backward(sum(maximum(a, a)));
  REQUIRE((a.grad() == Tensor<double>{1.0, 1.0, 1.0}));
  // Broadcast ties: b (1,) ties with two elements of a, and collects both halves.
  Var<double> c = tape.parameter(Tensor<double>{2.0});
  a.zero_grad();
  tape.backward(sum(maximum(a, c)));
  REQUIRE((a.grad() == Tensor<double>{0.0, 0.5, 1.0}));
  REQUIRE(c.grad()(0) == 1.5);
  REQUIRE_THROWS_WITH(maximum(a, tape.parameter(Tensor<double>{1.0, 2.0})), Catch::Contains("maximum"));
}

TEST_CASE("abs: values, subgradient 0 at 0", "[ops][elementwise]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{-1.5, 0.0, 2.0});
  REQUIRE((abs(a).value() == Tensor<double>{1.5, 0.0, 2.0}));
  tape.backward(sum(abs(a)));
  REQUIRE((a.grad() == Tensor<double>{-1.0, 0.0, 1.0}));
}

TEST_CASE("activations: values against reference numbers", "[ops][elementwise][activations]") {
  Tape<double> tape;
  Var<double> x = tape.parameter(Tensor<double>{-2.0, -0.5, 0.0, 1.0, 3.0});
  // From Python's math module: 0.5 x (1 + erf(x / sqrt 2)), the tanh form,
  // log1p(exp(x)) and x / (1 + exp(-x)).
  const Tensor<double> gelu_erf{-0.04550026389635842, -0.15426876936299344, 0.0, 0.8413447460685429, 2.99595030590511};
  const Tensor<double> gelu_tanh{-0.04540230591222494, -0.15428599017485606, 0.0, 0.8411919906082768, 2.996362607918227};
  const Tensor<double> softplus_ref{0.1269280110429725, 0.4740769841801067, 0.6931471805599453, 1.3132616875182228, 3.048587351573742};
  const Tensor<double> silu_ref{-0.2384058440442351, -0.1887703343990727, 0.0, 0.7310585786300049, 2.8577223804672998};
  REQUIRE(xt::allclose(gelu(x).value(), gelu_erf, 1e-14, 1e-15));
  REQUIRE(xt::allclose(gelu(x, GeluApprox::tanh).value(), gelu_tanh, 1e-14, 1e-15));
  REQUIRE(xt::allclose(softplus(x).value(), softplus_ref, 1e-14, 1e-15));
  REQUIRE(xt::allclose(silu(x).value(), silu_ref, 1e-14, 1e-15));
  REQUIRE((leaky_relu(x, 0.1).value() == Tensor<double>{-0.2, -0.05, 0.0, 1.0, 3.0}));
}

TEST_CASE("softplus is stable for large inputs, leaky_relu's slope at the kink", "[ops][elementwise][activations]") {
  Tape<double> tape;
  Var<double> x = tape.parameter(Tensor<double>{-800.0, 800.0, 40.0});
  Var<double> y = softplus(x);
  REQUIRE(y.value()(0) == 0.0);  // exp(-800) underflows; log1p(exp(-800)) would too, not to NaN
  REQUIRE(y.value()(1) == 800.0);  // log(1 + exp(800)) would be inf
  REQUIRE(y.value()(2) == Approx(40.0));
  tape.backward(sum(y));
  REQUIRE((x.grad() == Tensor<double>{0.0, 1.0, 1.0}));  // sigmoid, finite
  Tape<double> t2;
  Var<double> z = t2.parameter(Tensor<double>{-1.0, 0.0, 1.0});
  t2.backward(sum(leaky_relu(z, 0.25)));
  REQUIRE((z.grad() == Tensor<double>{0.25, 0.25, 1.0}));
}

TEST_CASE("activations and masked_fill compile and agree in float", "[ops][elementwise][activations]") {
  Tape<float> tf;
  Tape<double> td;
  Rng rng(7);
  const Tensor<double> v = uniform<double>(Shape{3, 5}, -3, 3, rng);
  Var<float> xf = tf.parameter(xt::cast<float>(v));
  Var<double> xd = td.parameter(v);
  const Tensor<float> mask_f = Tensor<float>{1.0f, 0.0f, 0.0f, 1.0f, 0.0f};
  const Tensor<double> mask_d = xt::cast<double>(mask_f);
  auto f = [](const auto& x, const auto& mask) {
    return softplus(x) + silu(x) * 0.5 + gelu(x) - gelu(x, GeluApprox::tanh) +
           leaky_relu(x, 0.1) + abs(x) + masked_fill(x, mask, -1) + tg::where(mask, x, 2.0);
  };
  Var<float> yf = f(xf, mask_f);
  Var<double> yd = f(xd, mask_d);
  REQUIRE(xt::allclose(xt::cast<double>(yf.value()), yd.value(), 1e-5, 1e-5));
  tf.backward(sum(yf));
  td.backward(sum(yd));
  REQUIRE(xt::allclose(xt::cast<double>(xf.grad()), xd.grad(), 1e-4, 1e-4));
}

TEST_CASE("where with a scalar side and masked_fill: values and errors", "[ops][elementwise]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{1.0, 2.0, 3.0});
  const Tensor<double> mask{0.0, 1.0, 0.0};
  REQUIRE((masked_fill(a, mask, -7).value() == Tensor<double>{1.0, -7.0, 3.0}));
  REQUIRE((tg::where(mask, a, 9).value() == Tensor<double>{9.0, 2.0, 9.0}));
  REQUIRE((tg::where(mask, 9, a).value() == Tensor<double>{1.0, 9.0, 3.0}));
  tape.backward(sum(masked_fill(a, mask, -7) * a));
  REQUIRE((a.grad() == Tensor<double>{2.0, -7.0, 6.0}));  // a + masked_fill(a): 0 + (-7) where masked
  REQUIRE_THROWS_WITH(masked_fill(a, Tensor<double>{1.0, 0.0}, 0), Catch::Contains("masked_fill"));
}

TEST_CASE("tan: values, and the derivative from the result alone", "[ops][elementwise]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{0.25, -0.5});
  Var<double> y = tan(a * 1.0);  // the product is held by no Var and not saved
  REQUIRE(y.value()(0) == std::tan(0.25));
  tape.backward(sum(y));
  const double t = std::tan(-0.5);
  REQUIRE(a.grad()(1) == 1.0 + t * t);
}

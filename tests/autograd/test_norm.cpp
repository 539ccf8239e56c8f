// layer_norm, fused: gradchecked in float64, and held to its composition
// from primitive ops (values and every gradient), in double and float.
#include "check.hpp"

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {
// The same map from primitive ops: (x - mean) / sqrt(var + eps) * gamma + beta.
template <class T>
Var<T> layer_norm_composed(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, T eps) {
  Var<T> centred = x - mean(x, -1, true);
  Var<T> var = mean(square(centred), -1, true);
  return centred / sqrt(var + eps) * gamma + beta;
}

const std::vector<Shape> kShapes = {{4, 6}, {2, 3, 5}, {7}, {3, 1}, {1, 2, 1, 8}};

// x of `shape`, gamma and beta of its last extent: random leaves.
struct Inputs {
  Var<double> x, gamma, beta;
};
Inputs random_inputs(Tape<double>& tape, const Shape& shape, Rng& rng) {
  const std::size_t D = shape.back();
  return {rand_param(tape, shape, rng, -2, 2), rand_param(tape, {D}, rng, 0.5, 1.5), rand_param(tape, {D}, rng)};
}
}  // namespace

TEST_CASE("layer_norm: gradcheck of x, gamma and beta over several shapes", "[ops][norm]") {
  for (std::uint64_t seed : {1, 2, 3})
    for (const Shape& s : kShapes) {
      Tape<double> tape;
      Rng rng(seed);
      const Inputs in = random_inputs(tape, s, rng);
      Var<double> x = in.x, gamma = in.gamma, beta = in.beta;
      INFO("seed " << seed << " shape " << shape_str(s));
      require_gradcheck(tape, {x, gamma, beta}, [&] { return layer_norm(x, gamma, beta, 1e-5); });
      // A small eps near a constant row is the hard case for the variance term.
      require_gradcheck(tape, {x, gamma, beta}, [&] { return layer_norm(x * 1e-2, gamma, beta, 1e-3); });
    }
}

TEST_CASE("layer_norm: the fused op equals its composition, values and gradients", "[ops][norm]") {
  for (std::uint64_t seed : {1, 2})
    for (const Shape& s : kShapes) {
      Tape<double> tape;
      Rng rng(seed);
      const Inputs in = random_inputs(tape, s, rng);
      Var<double> x = in.x, gamma = in.gamma, beta = in.beta;
      const Tensor<double> weights = uniform<double>(s, -1, 1, rng);
      INFO("seed " << seed << " shape " << shape_str(s));
      std::vector<Tensor<double>> grads[2];
      for (int composed : {0, 1}) {
        tape.clear();
        for (Var<double>* v : {&x, &gamma, &beta}) v->zero_grad();
        Var<double> y = composed ? layer_norm_composed(x, gamma, beta, 1e-5) : layer_norm(x, gamma, beta);
        if (composed == 1) {
          // Compare values against the fused result computed just before.
          REQUIRE(xt::allclose(y.value(), layer_norm(x, gamma, beta).value(), 1e-12, 1e-13));
        }
        tape.backward(sum(y * tape.constant(weights)));
        for (Var<double>* v : {&x, &gamma, &beta}) grads[composed].push_back(v->grad());
      }
      for (std::size_t i = 0; i < 3; ++i) {
        INFO("input " << i);
        REQUIRE(xt::allclose(grads[0][i], grads[1][i], 1e-11, 1e-12));
      }
    }
}

TEST_CASE("layer_norm in float agrees with float64, normalises rows", "[ops][norm]") {
  Rng rng(4);
  const Tensor<double> xv = uniform<double>(Shape{5, 16}, -3, 3, rng);
  const Tensor<double> gv = uniform<double>(Shape{16}, 0.5, 1.5, rng), bv = uniform<double>(Shape{16}, -1, 1, rng);
  Tape<float> tf;
  Tape<double> td;
  Var<float> xf = tf.parameter(xt::cast<float>(xv)), gf = tf.parameter(xt::cast<float>(gv)),
             bf = tf.parameter(xt::cast<float>(bv));
  Var<double> xd = td.parameter(xv), gd = td.parameter(gv), bd = td.parameter(bv);
  Var<float> yf = layer_norm(xf, gf, bf, 1e-5);
  Var<double> yd = layer_norm(xd, gd, bd);
  REQUIRE(xt::allclose(xt::cast<double>(yf.value()), yd.value(), 1e-5, 1e-5));
  tf.backward(sum(square(yf)));
  td.backward(sum(square(yd)));
  REQUIRE(xt::allclose(xt::cast<double>(xf.grad()), xd.grad(), 1e-4, 1e-4));
  REQUIRE(xt::allclose(xt::cast<double>(gf.grad()), gd.grad(), 1e-4, 1e-4));
  // With gamma 1 and beta 0, each row has mean 0 and variance 1 (up to eps).
  Var<double> plain = layer_norm(xd, td.constant(xt::ones<double>(Shape{16})),
                                 td.constant(tg::zeros<double>(Shape{16})), 0.0);
  REQUIRE(xt::allclose(xt::mean(plain.value(), {1}), xt::zeros<double>(Shape{5}), 0, 1e-14));
  REQUIRE(xt::allclose(xt::mean(plain.value() * plain.value(), {1}), xt::ones<double>(Shape{5}), 1e-13));
}

TEST_CASE("layer_norm: shape and eps errors name what is wrong", "[ops][norm]") {
  Tape<double> tape;
  Var<double> x = tape.parameter(tg::zeros<double>(Shape{2, 3}));
  Var<double> g3 = tape.parameter(tg::zeros<double>(Shape{3})), g2 = tape.parameter(tg::zeros<double>(Shape{2}));
  REQUIRE_THROWS_WITH(layer_norm(x, g2, g3), Catch::Contains("layer_norm") && Catch::Contains("gamma (2,)"));
  REQUIRE_THROWS_WITH(layer_norm(x, g3, g2), Catch::Contains("beta (2,)"));
  REQUIRE_THROWS_WITH(layer_norm(x, g3, g3, -1.0), Catch::Contains("eps"));
}

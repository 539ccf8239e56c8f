// Linear and Embedding: values, gradchecks, the padding row.
#include <xtensor/xview.hpp>

#include "../autograd/check.hpp"
#include <tapegrad/layers/init.hpp>
#include <tapegrad/layers/linear.hpp>

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

TEST_CASE("Linear: y = x W + b over the last axis, gradcheck", "[layers][linear]") {
  Tape<double> tape;
  Rng rng(1);
  Linear<double> fc(tape, 4, 3, rng);
  REQUIRE(fc.named_parameters().size() == 2);
  REQUIRE(fc.named_parameters()[0].name == "weight");
  for (const Shape& s : {Shape{5, 4}, Shape{2, 3, 4}}) {
    Var<double> x = rand_param(tape, s, rng);
    Var<double> y = fc(x);
    REQUIRE(y.shape().back() == 3);
    double y01 = fc.bias.value()(1);  // first row of x, output 1
    for (std::size_t k = 0; k < 4; ++k) y01 += x.value().data()[k] * fc.weight.value()(k, 1);
    REQUIRE(y.value().data()[1] == Approx(y01));
    require_gradcheck(tape, {x, fc.weight, fc.bias}, [&] { return fc(x); });
  }
  Linear<double> nobias(tape, 4, 2, rng, false);
  REQUIRE(nobias.named_parameters().size() == 1);
}

TEST_CASE("Embedding: rows by id, padding row zero and frozen, gradcheck", "[layers][embedding]") {
  Tape<double> tape;
  Rng rng(2);
  Embedding<double> emb(tape, 6, 3, rng, /*padding_id=*/0);
  REQUIRE(xt::all(xt::equal(xt::view(emb.weight.value(), 0, xt::all()), 0.0)));
  xt::xarray<std::int64_t> ids = {{0, 4}, {4, 2}, {0, 5}};  // (T=3, B=2)
  Var<double> e = emb(ids);
  REQUIRE(to_shape(e.shape()) == Shape{3, 2, 3});
  REQUIRE(e.value()(2, 1, 1) == emb.weight.value()(5, 1));
  require_gradcheck(tape, {emb.weight}, [&] {
    // The padding row gets no gradient, so check with a non-padding function.
    Embedding<double>& m = emb;
    return m(xt::xarray<std::int64_t>{{1, 4}, {4, 2}, {3, 5}});
  });
  tape.clear();
  emb.weight.zero_grad();
  tape.backward(sum(emb(ids)));
  REQUIRE(xt::all(xt::equal(xt::view(emb.weight.grad(), 0, xt::all()), 0.0)));
  REQUIRE(emb.weight.grad()(4, 0) == 2.0);
  REQUIRE_THROWS_WITH(emb(xt::xarray<std::int64_t>{7}), Catch::Contains("index 7"));
}

TEST_CASE("initialisers: Glorot and fan-in bounds", "[layers][init]") {
  Rng rng(3);
  const double a = std::sqrt(6.0 / (30 + 50));
  Tensor<double> g = init::glorot_uniform<double>(30, 50, rng);
  REQUIRE(xt::amax(xt::abs(g))() <= a);
  REQUIRE(xt::amax(xt::abs(g))() > 0.9 * a);  // fills the range
  Tensor<double> f = init::fan_in_uniform<double>(Shape{100, 4}, 16, rng);
  REQUIRE(xt::amax(xt::abs(f))() <= 0.25);
  REQUIRE(std::abs(xt::mean(f)()) < 0.05);
}

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
}  // namespace

TEST_CASE("binary ops with broadcasting: gradcheck", "[ops][elementwise]") {
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
      Shape expected = broadcast_shape("test", sa, sb);
      REQUIRE(to_shape((a + b).shape()) == expected);
    }
}

TEST_CASE("unary ops: gradcheck", "[ops][elementwise]") {
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
      require_gradcheck(tape, {pos}, [&] { return pow(pos, 2.7); });
      require_gradcheck(tape, {a}, [&] { return pow(a, 3.0); });
      require_gradcheck(tape, {a}, [&] { return square(a); });
      require_gradcheck(tape, {pos}, [&] { return sqrt(pos); });
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

TEST_CASE("where routes the gradient by the condition", "[ops][elementwise]") {
  for (std::uint64_t seed : {1, 2}) {
    Tape<double> tape;
    Rng rng(seed);
    Var<double> a = rand_param(tape, {3, 4}, rng);
    Var<double> b = rand_param(tape, {4}, rng);
    Tensor<double> cond = xt::where(uniform<double>(Shape{3, 1}, 0, 1, rng) < 0.5, 1.0, 0.0);
    cond(0, 0) = 1;
    cond(1, 0) = 0;
    require_gradcheck(tape, {a, b}, [&] { return tg::where(cond, a, b); });
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

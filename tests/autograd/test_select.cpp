// Choices from scores: argmax, topk, accuracy, multinomial and sample, on
// hand-made inputs (ties, NaN) and, for the draws, against their
// probabilities within a statistical bound.
#include <cmath>
#include <limits>
#include <vector>

#include <xtensor/xview.hpp>

#include "check.hpp"

using namespace tg;

namespace {

Tensor<std::int64_t> ids(std::initializer_list<std::int64_t> v) {
  Tensor<std::int64_t> t = Tensor<std::int64_t>::from_shape({v.size()});
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

// Each class's share of the draws is within 5 standard deviations of p.
void require_frequencies(const Tensor<std::int64_t>& draws, const std::vector<double>& p) {
  std::vector<double> count(p.size(), 0);
  for (std::int64_t d : draws) {
    REQUIRE(d >= 0);
    REQUIRE(d < std::int64_t(p.size()));
    count[std::size_t(d)] += 1;
  }
  const double n = double(draws.size());
  for (std::size_t c = 0; c < p.size(); ++c) {
    INFO("class " << c << ": " << count[c] / n << " drawn, p = " << p[c]);
    REQUIRE(std::abs(count[c] / n - p[c]) <= 5 * std::sqrt(p[c] * (1 - p[c]) / n) + 1e-12);
  }
}

// n copies of one row.
Tensor<double> repeat_row(const std::vector<double>& row, std::size_t n) {
  Tensor<double> t = Tensor<double>::from_shape({n, row.size()});
  for (std::size_t i = 0; i < n; ++i) std::copy(row.begin(), row.end(), t.data() + i * row.size());
  return t;
}

std::vector<double> softmax_of(const std::vector<double>& x, double temperature) {
  std::vector<double> p(x.size());
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += p[i] = std::exp(x[i] / temperature);
  for (double& v : p) v /= s;
  return p;
}

}  // namespace

TEST_CASE("argmax: each axis, first index at a tie, NaN the largest", "[ops][select]") {
  const Tensor<double> x = {{1, 5, 5, 2}, {7, 0, 7, 2}, {-3, -2, -2, -9}};  // ties in rows and columns
  REQUIRE((tg::argmax(x) == ids({1, 0, 1})));
  REQUIRE((tg::argmax(x, 1) == ids({1, 0, 1})));
  REQUIRE((tg::argmax(x, 0) == ids({1, 0, 1, 0})));
  REQUIRE((tg::argmax(x, -2) == ids({1, 0, 1, 0})));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  REQUIRE((tg::argmax(Tensor<double>{1, nan, 9, nan}) == Tensor<std::int64_t>(std::int64_t(1))));
  // (2, 3, 2) along the middle axis, through a Var in float.
  Tape<float> tape;
  Var<float> v = tape.constant(Tensor<float>{{{1, 2}, {3, 2}, {3, 0}}, {{0, 0}, {-1, 4}, {5, 4}}});
  REQUIRE((tg::argmax(v, 1) == Tensor<std::int64_t>{{1, 0}, {2, 1}}));
  REQUIRE_THROWS_WITH(tg::argmax(x, 2), Catch::Contains("axis 2 is out of range for rank 2"));
  REQUIRE_THROWS_WITH(tg::argmax(Tensor<double>::from_shape({2, 0})), Catch::Contains("is empty"));
}

TEST_CASE("topk: sorted descending, ties in index order, any axis", "[ops][select]") {
  const Tensor<double> x = {{1, 5, 5, 2}, {7, 0, 7, -1}};
  TopK<double> t = topk(x, 3);
  REQUIRE((t.values == Tensor<double>{{5, 5, 2}, {7, 7, 0}}));
  REQUIRE((t.indices == Tensor<std::int64_t>{{1, 2, 3}, {0, 2, 1}}));
  t = topk(x, 1, 0);
  REQUIRE((t.values == Tensor<double>{{7, 5, 7, 2}}));
  REQUIRE((t.indices == Tensor<std::int64_t>{{1, 0, 1, 0}}));
  t = topk(x, 4);  // all of them: a full descending sort
  REQUIRE((t.indices == Tensor<std::int64_t>{{1, 2, 3, 0}, {0, 2, 1, 3}}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  t = topk(Tensor<double>{3, nan, 8}, 2);
  REQUIRE((t.indices == ids({1, 2})));
  Tape<float> tape;
  TopK<float> tf = topk(tape.constant(Tensor<float>{{0.5f, -1, 2}}), 2, -1);
  REQUIRE((tf.values == Tensor<float>{{2, 0.5f}}));
  REQUIRE((tf.indices == Tensor<std::int64_t>{{2, 0}}));
  REQUIRE((topk(x, 0).values.shape() == Tensor<double>::shape_type{2, 0}));
  REQUIRE_THROWS_WITH(topk(x, 5), Catch::Contains("k = 5 is larger than extent 4 of axis -1 of shape (2, 4)"));
}

TEST_CASE("accuracy: labels of any integer type, ignore_index, bad labels", "[ops][select]") {
  const Tensor<double> scores = {{0.1, 0.7, 0.2}, {2, 1, 0}, {0, 0, 3}, {1, 1, 0}};
  // argmax rows: 1, 0, 2, 0
  REQUIRE(accuracy(scores, std::vector<int>{1, 0, 0, 0}) == 0.75);
  REQUIRE(accuracy(scores, std::vector<std::size_t>{1, 1, 0, 1}) == 0.25);
  REQUIRE(accuracy(scores, xt::xarray<std::int32_t>{1, 0, 2, 0}) == 1.0);
  REQUIRE(accuracy(scores, ids({2, 2, 2, 2})) == 0.25);
  Tape<float> tape;
  REQUIRE(accuracy(tape.constant(Tensor<float>(scores)), {1, 0, 1, 1}) == 0.5);
  // Ignored rows are not counted, whatever their prediction.
  REQUIRE(accuracy(scores, std::vector<long long>{1, -100, 1, -100}, -100) == 0.5);
  REQUIRE(accuracy(scores, std::vector<int>{1, 2, 2, 2}, 2) == 1.0);
  REQUIRE_THROWS_WITH(accuracy(scores, {1, 0, 3, 0}), Catch::Contains("label 3 at row 2 is not a class in [0, 3)"));
  REQUIRE_THROWS_WITH(accuracy(scores, {1, 0, 2}), Catch::Contains("3 labels for scores (4, 3) (4 rows)"));
  REQUIRE_THROWS_WITH(accuracy(scores, {-1, -1, -1, -1}, -1), Catch::Contains("all 4 labels equal ignore_index -1"));
  REQUIRE_THROWS_WITH(accuracy(scores, std::vector<std::uint64_t>{1, 0, std::uint64_t(1) << 63, 0}),
                      Catch::Contains("index 9223372036854775808 at position 2 is too large"));
}

TEST_CASE("multinomial: frequencies, zero entries never drawn, same seed same draws", "[ops][select]") {
  const std::vector<double> w = {0.5, 0, 2, 1.5};  // need not sum to 1
  const Tensor<double> probs = repeat_row(w, 20000);
  Rng rng(7);
  const Tensor<std::int64_t> draws = multinomial(probs, rng);
  REQUIRE((draws.shape() == Tensor<std::int64_t>::shape_type{20000}));
  require_frequencies(draws, {0.125, 0, 0.5, 0.375});
  Rng a(11), b(11), c(12);
  REQUIRE((multinomial(probs, a) == multinomial(probs, b)));
  REQUIRE((multinomial(probs, b) != multinomial(probs, c)));
  // Rows of their own: a one-hot row always draws its class.
  Tape<float> tape;
  REQUIRE((multinomial(tape.constant(Tensor<float>{{0, 0, 1}, {1, 0, 0}, {0, 3, 0}}), rng) == ids({2, 0, 1})));
}

TEST_CASE("multinomial: a negative, NaN or all-zero row throws naming the row", "[ops][select]") {
  Rng rng(1);
  REQUIRE_THROWS_WITH(multinomial(Tensor<double>{{1, 1}, {0.5, -0.5}}, rng),
                      Catch::Contains("multinomial: row 1, entry 1 is -0.5"));
  REQUIRE_THROWS_WITH(multinomial(Tensor<double>{{1, std::nan("")}}, rng), Catch::Contains("row 0, entry 1 is nan"));
  REQUIRE_THROWS_WITH(multinomial(Tensor<double>{{1, 0}, {0, 1}, {0, 0}}, rng),
                      Catch::Contains("row 2 sums to 0"));
  REQUIRE_THROWS_WITH(multinomial(Tensor<double>(2.0), rng), Catch::Contains("got a scalar"));
}

TEST_CASE("sample: frequencies of softmax(logits / temperature), seeds, low temperature", "[ops][select]") {
  const std::vector<double> x = {1.0, -0.5, 0.3, 2.0};
  for (double temperature : {1.0, 2.5}) {
    INFO("temperature " << temperature);
    Rng rng(3);
    require_frequencies(sample(repeat_row(x, 20000), rng, temperature), softmax_of(x, temperature));
  }
  // Two different rows, interleaved, each at its own probabilities.
  const std::vector<double> y = {-3, 0, 0, 3};
  Tensor<double> both = Tensor<double>::from_shape({10000, 2, 4});
  for (std::size_t i = 0; i < 10000; ++i) {
    std::copy(x.begin(), x.end(), both.data() + i * 8);
    std::copy(y.begin(), y.end(), both.data() + i * 8 + 4);
  }
  Rng rng(5);
  const Tensor<std::int64_t> d = sample(both, rng);
  REQUIRE((d.shape() == Tensor<std::int64_t>::shape_type{10000, 2}));
  require_frequencies(xt::eval(xt::view(d, xt::all(), 0)), softmax_of(x, 1));
  require_frequencies(xt::eval(xt::view(d, xt::all(), 1)), softmax_of(y, 1));
  // Same seed, same draws; in float through a Var too.
  Tape<float> tape;
  Var<float> v = tape.constant(Tensor<float>(repeat_row(x, 500)));
  Rng a(9), b(9);
  REQUIRE((sample(v, a, 0.7) == sample(v, b, 0.7)));
  // A low temperature puts (nearly) every draw on the argmax.
  Rng cold(4);
  const Tensor<std::int64_t> c = sample(repeat_row(x, 5000), cold, 0.05);
  REQUIRE(std::count(c.begin(), c.end(), 3) >= 4990);
}

TEST_CASE("sample: a bad temperature or logit throws", "[ops][select]") {
  Rng rng(1);
  const Tensor<double> x = {{1, 2}};
  for (double t : {0.0, -1.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    INFO("temperature " << t);
    REQUIRE_THROWS_WITH(sample(x, rng, t), Catch::Contains("must be positive and finite"));
  }
  const double inf = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(sample(Tensor<double>{{1, 2}, {0, std::nan("")}}, rng), Catch::Contains("row 1, logit 1 is nan"));
  REQUIRE_THROWS_WITH(sample(Tensor<double>{{-inf, -inf}}, rng), Catch::Contains("row 0 has no finite logit"));
  // -inf logits are never drawn.
  Rng r2(2);
  const Tensor<std::int64_t> d = sample(repeat_row({-inf, 0, -inf}, 100), r2);
  REQUIRE(std::count(d.begin(), d.end(), 1) == 100);
}

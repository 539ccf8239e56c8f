// The CRF: its loss against a brute-force log-sum over every tag path, its
// gradient by central differences (float64, every element), Viterbi against
// a brute-force argmax, with padding and BIO constraints.
#include <cmath>
#include <functional>
#include <limits>

#include "../autograd/check.hpp"
#include <tapegrad/layers/crf.hpp>

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {

const std::vector<std::string> kBio{"O", "B-x", "I-x"};

struct Case {
  Tensor<double> e, a, s, n;
  std::vector<std::size_t> lengths;
  Tensor<std::int64_t> gold;
  CrfConstraints c;
};

bool allowed(const CrfConstraints& c, std::size_t C, const std::vector<std::int64_t>& y) {
  if (!c.start.empty() && !c.start[y[0]]) return false;
  for (std::size_t t = 1; t < y.size(); ++t)
    if (!c.transition.empty() && !c.transition[y[t - 1] * C + y[t]]) return false;
  return true;
}

double path_score(const Case& k, std::size_t b, const std::vector<std::int64_t>& y) {
  double s = k.s(y[0]) + k.n(y.back());
  for (std::size_t t = 0; t < y.size(); ++t) s += k.e(t, b, y[t]) + (t ? k.a(y[t - 1], y[t]) : 0);
  return s;
}

// Calls f on every allowed path of sentence b.
void each_path(const Case& k, std::size_t b, const std::function<void(const std::vector<std::int64_t>&)>& f) {
  const std::size_t C = k.s.size(), L = k.lengths[b];
  std::vector<std::int64_t> y(L, 0);
  for (std::size_t code = 0, total = std::size_t(std::pow(C, L)); code < total; ++code) {
    for (std::size_t t = 0, r = code; t < L; ++t, r /= C) y[t] = std::int64_t(r % C);
    if (allowed(k.c, C, y)) f(y);
  }
}

double brute_nll(const Case& k) {
  double total = 0;
  for (std::size_t b = 0; b < k.lengths.size(); ++b) {
    double z = 0;
    each_path(k, b, [&](const std::vector<std::int64_t>& y) { z += std::exp(path_score(k, b, y)); });
    std::vector<std::int64_t> gold(k.lengths[b]);
    for (std::size_t t = 0; t < gold.size(); ++t) gold[t] = k.gold(t, b);
    total += std::log(z) - path_score(k, b, gold);
  }
  return total / double(k.lengths.size());
}

// A random case of 3 tags; the gold path is the brute-force best one of
// random scores, so it respects the constraints.
Case make_case(std::size_t T, std::vector<std::size_t> lengths, bool bio, Rng& rng) {
  const std::size_t B = lengths.size();
  Case k{uniform<double>(Shape{T, B, 3}, -2, 2, rng), uniform<double>(Shape{3, 3}, -1, 1, rng),
         uniform<double>(Shape{3}, -1, 1, rng), uniform<double>(Shape{3}, -1, 1, rng), lengths,
         Tensor<std::int64_t>::from_shape({T, B}), bio ? bio_constraints(kBio) : CrfConstraints{}};
  k.gold.fill(0);
  Case r = k;
  r.e = uniform<double>(Shape{T, B, 3}, -3, 3, rng);
  for (std::size_t b = 0; b < B; ++b) {
    double best = -1e300;
    each_path(r, b, [&](const std::vector<std::int64_t>& y) {
      if (path_score(r, b, y) <= best) return;
      best = path_score(r, b, y);
      for (std::size_t t = 0; t < y.size(); ++t) k.gold(t, b) = y[t];
    });
  }
  return k;
}

}  // namespace

TEST_CASE("crf_nll equals the brute-force log-sum over all tag paths", "[layers][crf]") {
  Rng rng(7);
  for (bool bio : {false, true})
    for (std::size_t T = 1; T <= 4; ++T) {
      std::vector<std::size_t> lengths{T, std::max<std::size_t>(1, T - 1), 1};
      const Case k = make_case(T, lengths, bio, rng);
      Tape<double> tape;
      const Var<double> loss = crf_nll(tape.parameter(k.e), tape.parameter(k.a), tape.parameter(k.s),
                                       tape.parameter(k.n), k.gold, k.lengths, k.c);
      INFO("T " << T << " bio " << bio);
      REQUIRE(loss.value()() == Approx(brute_nll(k)).epsilon(1e-12));
    }
}

TEST_CASE("crf_nll: float64 gradcheck of emissions, transitions, start, end", "[layers][crf]") {
  Rng rng(11);
  for (bool bio : {false, true}) {
    const Case k = make_case(4, {4, 2, 3}, bio, rng);
    Tape<double> tape;
    Var<double> e = tape.parameter(k.e), a = tape.parameter(k.a), s = tape.parameter(k.s),
                n = tape.parameter(k.n);
    GradcheckOptions opt;
    opt.atol = 1e-9;
    opt.rtol = 1e-6;
    require_gradcheck(tape, {e, a, s, n}, [&] { return crf_nll(e, a, s, n, k.gold, k.lengths, k.c); }, opt);
  }
}

TEST_CASE("crf_viterbi equals the brute-force best path", "[layers][crf]") {
  Rng rng(5);
  for (bool bio : {false, true})
    for (std::size_t T = 1; T <= 4; ++T) {
      const Case k = make_case(T, {T, std::max<std::size_t>(1, T - 1), 1, T}, bio, rng);
      const Tensor<std::int64_t> got = crf_viterbi(k.e, k.a, k.s, k.n, k.lengths, k.c);
      for (std::size_t b = 0; b < k.lengths.size(); ++b) {
        double best = -1e300;
        std::vector<std::int64_t> want;
        each_path(k, b, [&](const std::vector<std::int64_t>& y) {
          if (path_score(k, b, y) > best) best = path_score(k, b, y), want = y;
        });
        for (std::size_t t = 0; t < T; ++t) REQUIRE(got(t, b) == (t < want.size() ? want[t] : 0));
      }
    }
}

TEST_CASE("Crf: parameters, constraints and errors", "[layers][crf]") {
  Tape<float> tape;
  Crf<float> crf(tape, 3, bio_constraints(kBio));
  REQUIRE(crf.named_parameters().size() == 3);
  REQUIRE(crf.named_parameters()[0].name == "transitions");
  REQUIRE(crf.describe() == "CRF(num_tags=3, constrained=True)");
  const CrfConstraints c = bio_constraints(kBio);
  REQUIRE(c.start == std::vector<std::uint8_t>{1, 1, 0});
  REQUIRE(c.transition == std::vector<std::uint8_t>{1, 1, 0, 1, 1, 1, 1, 1, 1});
  Var<float> e = tape.parameter(Tensor<float>(xt::zeros<float>({2, 1, 3})));
  Tensor<std::int64_t> gold = Tensor<std::int64_t>::from_shape({2, 1});
  gold(0, 0) = 0, gold(1, 0) = 2;  // O then I-x: forbidden
  REQUIRE_THROWS_WITH(crf.nll(e, gold, {2}), Catch::Matchers::Contains("forbid"));
  REQUIRE_THROWS_WITH(crf.nll(e, gold, {3}), Catch::Matchers::Contains("length 3"));
  Tensor<std::int64_t> bad = gold;
  bad(1, 0) = 5;
  REQUIRE_THROWS_WITH(crf.nll(e, bad, {2}), Catch::Matchers::Contains("tag 5"));
  REQUIRE(crf.decode(e.value(), {2})(1, 0) != 2);
}

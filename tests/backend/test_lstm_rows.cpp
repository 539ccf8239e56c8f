// backend/lstm: the float cell forward against sigmoid and tanh computed in
// double, in ulps of the float result, over a dense grid from 0 to
// saturation; on 512-bit vectors where this CPU has AVX-512 (the inlined
// activations with their reciprocal divisions), else the activation rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <tapegrad/backend/lstm.hpp>

namespace {

// |y - exact| in units of the float spacing at the exact value (the
// smallest subnormal below the normal range).
double ulps(float y, double exact) {
  const float e = std::abs(float(exact));
  const double spacing = std::max(double(std::nextafter(e, std::numeric_limits<float>::infinity()) - e),
                                  double(std::numeric_limits<float>::denorm_min()));
  return std::abs(double(y) - exact) / spacing;
}

// Both signs of: a uniform grid on [0, 12] (step 2^-14, where the
// activations bend), a geometric one from 1e-30 to 110 (tiny arguments and
// the tails), and the saturation extremes.
std::vector<float> grid() {
  std::vector<float> x;
  for (int k = 0; k <= 12 * 16384; ++k) x.push_back(float(k) / 16384);
  for (double v = 1e-30; v < 110; v *= 1.0002) x.push_back(float(v));
  for (float v : {88.f, 104.f, 1e30f, std::numeric_limits<float>::infinity()}) x.push_back(v);
  const std::size_t n = x.size();
  for (std::size_t k = 0; k < n; ++k) x.push_back(-x[k]);
  return x;
}

}  // namespace

TEST_CASE("lstm forward rows: float sigmoid and tanh within 2 ulp", "[backend][lstm]") {
  const std::vector<float> x = grid();
  // Rows of H = 1000 (62 whole vectors and a tail of 8) take the grid in
  // every gate; c_prev = 0, so c = i g and hc = tanh(c).
  const std::size_t H = 1000, B = (x.size() + H - 1) / H;
  std::vector<float> gates(B * 4 * H), c_prev(B * H, 0.f), act(B * 4 * H), c(B * H), hc(B * H), h(B * H);
  std::vector<float> z(B * H, 0.f);
  std::copy(x.begin(), x.end(), z.begin());
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t q = 0; q < 4; ++q)
      std::copy_n(z.data() + b * H, H, gates.data() + b * 4 * H + q * H);
  tg::lstm::forward<float>({gates.data(), c_prev.data(), act.data(), c.data(), hc.data(), h.data(),
                            B, H, true, true});
  double sig = 0, tnh = 0, cell_tanh = 0;
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t j = 0; j < H; ++j) {
      const double v = z[b * H + j];
      const float* a = act.data() + b * 4 * H + j;
      const double s = 1 / (1 + std::exp(-v));
      sig = std::max({sig, ulps(a[0], s), ulps(a[H], s), ulps(a[3 * H], s)});
      tnh = std::max(tnh, ulps(a[2 * H], std::tanh(v)));
      cell_tanh = std::max(cell_tanh, ulps(hc[b * H + j], std::tanh(double(c[b * H + j]))));
      REQUIRE(h[b * H + j] == a[3 * H] * hc[b * H + j]);
    }
  WARN("max ulps: sigmoid " << sig << ", tanh " << tnh << ", tanh(c) " << cell_tanh);
  CHECK(sig <= 2);
  CHECK(tnh <= 2);
  CHECK(cell_tanh <= 2);
  // NaN passes through.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> g1(4, nan), c1(1, 0.f), a1(4), o1(3);
  tg::lstm::forward<float>({g1.data(), c1.data(), a1.data(), o1.data(), o1.data() + 1, o1.data() + 2,
                            1, 1, true, true});
  for (float v : a1) CHECK(std::isnan(v));
  CHECK(std::isnan(o1[2]));
}

// The float matrix product: tapegrad's AVX-512 kernel (when this CPU has
// AVX-512) and tg::blas::gemm<float> (whichever backend it dispatches to),
// against a plain double-precision loop, over shapes that hit every tail of
// the 6x64 micro-tile, several 256-deep passes and 192-row blocks, all four transpose cases,
// alpha and beta.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <tapegrad/backend/blas.hpp>
#include <tapegrad/backend/gemm_choice.hpp>
#include <tapegrad/backend/sgemm_avx512.hpp>

#include "tests/datasets/tmpdir.hpp"  // TmpDir

namespace {

struct Case {
  bool ta, tb;
  int m, n, k;
  float alpha, beta;
};

using Gemm = void (*)(bool, bool, int, int, int, float, const float*, const float*, float, float*);

// Worst |C - reference| / (1 + |reference|) over C; NaN where beta = 0 did read C.
double worst_error(Gemm gemm, const Case& c, std::mt19937& gen) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(std::size_t(c.m) * c.k), b(std::size_t(c.k) * c.n), out(std::size_t(c.m) * c.n);
  for (float& x : a) x = u(gen);
  for (float& x : b) x = u(gen);
  for (float& x : out) x = u(gen);
  std::vector<double> ref(out.size());
  for (int i = 0; i < c.m; ++i)
    for (int j = 0; j < c.n; ++j) {
      double s = 0;
      for (int p = 0; p < c.k; ++p) {
        const double ap = c.ta ? a[std::size_t(p) * c.m + i] : a[std::size_t(i) * c.k + p];
        const double bp = c.tb ? b[std::size_t(j) * c.k + p] : b[std::size_t(p) * c.n + j];
        s += ap * bp;
      }
      const double old = out[std::size_t(i) * c.n + j];
      ref[std::size_t(i) * c.n + j] = c.alpha * s + (c.beta == 0 ? 0.0 : c.beta * old);
    }
  if (c.beta == 0) std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());
  gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.data(), b.data(), c.beta, out.data());
  double worst = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double e = std::abs(out[i] - ref[i]) / (1 + std::abs(ref[i]));
    if (!(e <= worst)) worst = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
  }
  return worst;
}

void check_all(Gemm gemm) {
  std::mt19937 gen(7);
  const int sizes[] = {1, 2, 5, 6, 7, 15, 16, 17, 50, 63, 64, 65, 128, 129, 300};
  const float alphas[] = {1.0f, 0.5f};
  const float betas[] = {0.0f, 1.0f, -0.25f};
  int cases = 0;
  for (int m : sizes)
    for (int n : sizes)
      for (int variant = 0; variant < 4; ++variant) {
        const int k = sizes[(m * 7 + n * 3 + variant) % std::size(sizes)];
        const Case c{bool(variant & 1), bool(variant & 2), m, n, k, alphas[(m + n) % 2],
                     betas[(m + 2 * n + variant) % 3]};
        INFO("ta " << c.ta << " tb " << c.tb << " m " << m << " n " << n << " k " << k << " alpha "
                   << c.alpha << " beta " << c.beta);
        REQUIRE(worst_error(gemm, c, gen) < 2e-6 * std::sqrt(double(k)) + 1e-6);
        ++cases;
      }
  // Depth beyond one 256-row pass, rows over several 192-row blocks (with A
  // transposed: the block starts a column further on), and a 0-deep product.
  for (const Case& c : {Case{false, false, 13, 70, 600, 1, 1}, Case{true, false, 389, 70, 300, 1, 0},
                        Case{false, true, 390, 17, 40, 0.5f, 1}, Case{true, true, 50, 128, 513, 1, 0},
                        Case{false, true, 7, 200, 257, 0.5f, -0.25f}, Case{true, false, 9, 33, 0, 1, 0.5f},
                        Case{false, false, 4, 5, 0, 1, 0}}) {
    INFO("m " << c.m << " n " << c.n << " k " << c.k << " beta " << c.beta);
    REQUIRE(worst_error(gemm, c, gen) < 2e-6 * std::sqrt(double(c.k)) + 1e-6);
  }
  REQUIRE(cases == 15 * 15 * 4);
}

}  // namespace

TEST_CASE("tg::blas::gemm<float> matches a double loop", "[blas]") {
  INFO("backend: " << tg::blas::float_gemm_backend());
  check_all(tg::blas::gemm<float>);
}

TEST_CASE("gemm<float> under TAPEGRAD_GEMM=auto, own and openblas matches a double loop", "[blas]") {
  static tg::blas::GemmChooser* chooser = nullptr;
  for (const char* mode : {"auto", "own", "openblas"}) {
    if (std::string(mode) == "own" && !tg::blas::avx512::supported()) continue;
    INFO("TAPEGRAD_GEMM=" << mode);
    tg::data::test::TmpDir dir;
    tg::blas::GemmChooser c(tg::blas::parse_gemm_mode(mode), (dir / "gemm.json").string());
    chooser = &c;
    check_all([](bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* b,
                 float beta, float* out) { chooser->gemm(ta, tb, m, n, k, alpha, a, b, beta, out); });
  }
}

TEST_CASE("the AVX-512 kernel matches a double loop on every tail", "[blas]") {
  if (!tg::blas::avx512::supported()) {
    WARN("this CPU has no AVX-512: the kernel is not used here, nothing to check");
    return;
  }
  check_all(tg::blas::avx512::sgemm);
}

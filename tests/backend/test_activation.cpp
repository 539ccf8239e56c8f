// backend/activation: sigmoid and tanh rows against std:: in double, in float
// (on 512-bit vectors where this CPU has AVX-512) and double, over lengths
// that leave every tail of a vector, in place and out of place, from the
// linear region to saturation.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <tapegrad/backend/activation.hpp>

namespace {

template <class T>
std::vector<T> inputs(std::size_t n) {
  // -30 .. 30, denser near 0, plus exact 0 and the saturation extremes.
  std::vector<T> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = n > 1 ? 2.0 * double(i) / double(n - 1) - 1.0 : 0.0;
    x[i] = T(30 * u * u * u);
  }
  if (n > 2) {
    x[n / 2] = T(0);
    x[0] = T(-100);
    x[n - 1] = T(100);
  }
  return x;
}

// Worst |y - exact| over the row; exact in double.
template <class T, class F, class G>
double worst(F row, G exact, std::size_t n, bool in_place) {
  std::vector<T> x = inputs<T>(n), y(n, T(7));
  if (in_place) {
    y = x;
    row(y.data(), y.data(), n);
  } else {
    row(x.data(), y.data(), n);
  }
  double w = 0;
  for (std::size_t i = 0; i < n; ++i) w = std::max(w, std::abs(double(y[i]) - exact(double(x[i]))));
  return w;
}

double sigmoid_exact(double x) { return 1 / (1 + std::exp(-x)); }
double tanh_exact(double x) { return std::tanh(x); }

}  // namespace

TEST_CASE("activation rows: sigmoid and tanh against std:: in double", "[backend][activation]") {
  for (std::size_t n : {1, 7, 15, 16, 17, 33, 128, 1000})
    for (bool in_place : {false, true}) {
      INFO("n " << n << ", in place " << in_place);
      REQUIRE(worst<float>(tg::activation::sigmoid<float>, sigmoid_exact, n, in_place) < 2e-7);
      REQUIRE(worst<float>(tg::activation::tanh<float>, tanh_exact, n, in_place) < 4e-7);
      REQUIRE(worst<double>(tg::activation::sigmoid<double>, sigmoid_exact, n, in_place) < 1e-15);
      REQUIRE(worst<double>(tg::activation::tanh<double>, tanh_exact, n, in_place) < 1e-15);
    }
}

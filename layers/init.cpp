#include <tapegrad/layers/init.hpp>

#include <cmath>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>

namespace tg::init {

template <class T>
Tensor<T> glorot_uniform(std::size_t fan_in, std::size_t fan_out, Rng& rng) {
  const T a = std::sqrt(T(6) / T(fan_in + fan_out));
  return uniform<T>(Shape{fan_in, fan_out}, -a, a, rng);
}

template <class T>
Tensor<T> fan_in_uniform(const Shape& shape, std::size_t fan_in, Rng& rng) {
  const T a = T(1) / std::sqrt(T(std::max<std::size_t>(fan_in, 1)));
  return uniform<T>(shape, -a, a, rng);
}

template <class T>
Tensor<T> orthogonal(std::size_t rows, std::size_t cols, Rng& rng, T gain) {
  if (rows == 0 || cols % rows != 0)
    throw Error("init::orthogonal: " + std::to_string(cols) + " columns are not a multiple of " +
                std::to_string(rows) + " rows");
  Tensor<T> w = Tensor<T>::from_shape(Shape{rows, cols});
  // As PyTorch's nn.init.orthogonal_, in double, for each square block: a
  // Gaussian matrix A = QR (LAPACK), then Q with column j times sign(R_jj),
  // which makes the factorisation unique and Q Haar-distributed.
  std::normal_distribution<double> normal(0.0, 1.0);
  const double g = gain;
  using Square = xt::xtensor<double, 2, xt::layout_type::column_major>;
  Square a = Square::from_shape({rows, rows});
  for (std::size_t block = 0; block < cols / rows; ++block) {
    for (double& v : a.storage()) v = normal(rng);  // column by column
    const auto [q, r] = xt::linalg::qr(a);
    for (std::size_t j = 0; j < rows; ++j) {
      const double s = r(j, j) < 0 ? -g : g;
      for (std::size_t i = 0; i < rows; ++i) w(i, block * rows + j) = T(s * q(i, j));
    }
  }
  return w;
}

template Tensor<float> glorot_uniform(std::size_t, std::size_t, Rng&);
template Tensor<double> glorot_uniform(std::size_t, std::size_t, Rng&);
template Tensor<float> fan_in_uniform(const Shape&, std::size_t, Rng&);
template Tensor<double> fan_in_uniform(const Shape&, std::size_t, Rng&);
template Tensor<float> orthogonal(std::size_t, std::size_t, Rng&, float);
template Tensor<double> orthogonal(std::size_t, std::size_t, Rng&, double);

}  // namespace tg::init

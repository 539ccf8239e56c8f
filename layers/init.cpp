#include "layers/init.hpp"

#include <cmath>

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
  // Modified Gram-Schmidt, in double for accuracy, on the columns of each
  // square block of a Gaussian matrix.
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> q(rows * rows);  // q[j * rows + i]: column j
  for (std::size_t block = 0; block < cols / rows; ++block) {
    for (auto& v : q) v = normal(rng);
    for (std::size_t j = 0; j < rows; ++j) {
      double* cj = &q[j * rows];
      for (std::size_t k = 0; k < j; ++k) {
        const double* ck = &q[k * rows];
        double dot = 0;
        for (std::size_t i = 0; i < rows; ++i) dot += cj[i] * ck[i];
        for (std::size_t i = 0; i < rows; ++i) cj[i] -= dot * ck[i];
      }
      double norm = 0;
      for (std::size_t i = 0; i < rows; ++i) norm += cj[i] * cj[i];
      norm = std::sqrt(norm);
      for (std::size_t i = 0; i < rows; ++i) cj[i] /= norm;
    }
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < rows; ++j) w(i, block * rows + j) = T(gain * q[j * rows + i]);
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

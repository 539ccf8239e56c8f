// Seeded randomness: every random choice in tapegrad (initialisers, dropout,
// shuffling) draws from an Rng passed in explicitly, so a run is reproducible
// from its seed.
#pragma once

#include <cstdint>
#include <random>

#include <tapegrad/backend/tensor.hpp>

namespace tg {

using Rng = std::mt19937_64;

// A tensor of i.i.d. U(lo, hi) values.
template <class T>
Tensor<T> uniform(const Shape& shape, T lo, T hi, Rng& rng) {
  std::uniform_real_distribution<T> d(lo, hi);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& v : t) v = d(rng);
  return t;
}

// A tensor of i.i.d. N(mean, stddev^2) values.
template <class T>
Tensor<T> normal(const Shape& shape, T mean, T stddev, Rng& rng) {
  std::normal_distribution<T> d(mean, stddev);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& v : t) v = d(rng);
  return t;
}

}  // namespace tg

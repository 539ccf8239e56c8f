// The row loops behind tg::activation, for one xsimd architecture. Included
// by activation.cpp (the compiled-for architecture) and by
// activation_avx512.cpp (built with AVX-512 flags), each instantiating it
// with its own Arch, so the two never share a symbol. Internal: users call
// tg::activation.
#pragma once

#include <cmath>
#include <cstddef>

#include <xsimd/xsimd.hpp>

namespace tg::activation::rows {

template <class Arch, class T>
void sigmoid(const T* x, T* y, std::size_t n) {
  using V = xsimd::batch<T, Arch>;
  const V one(T(1));
  std::size_t i = 0;
  for (; i + V::size <= n; i += V::size)
    (one / (one + xsimd::exp(-V::load_unaligned(x + i)))).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
}

template <class Arch, class T>
void tanh(const T* x, T* y, std::size_t n) {
  using V = xsimd::batch<T, Arch>;
  std::size_t i = 0;
  for (; i + V::size <= n; i += V::size) xsimd::tanh(V::load_unaligned(x + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = std::tanh(x[i]);
}

}  // namespace tg::activation::rows

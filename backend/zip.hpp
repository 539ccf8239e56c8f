// Elementwise loops over tensors of one shape, on raw pointers.
//
// xtensor's assignment of `a * b` reloads its operands' data pointers on
// every iteration (it cannot rule out that the store aliases them) and so
// runs at about a third of this loop's speed on cache-resident tensors. The
// tape's arithmetic and its gradient sums are these loops; broadcasting
// cases stay with xtensor.
#pragma once

#include <algorithm>
#include <cstddef>

#include <tapegrad/backend/tensor.hpp>

namespace tg {

template <class A, class B>
bool shapes_equal(const A& a, const B& b) {
  // A loop, not std::equal: that becomes a memcmp call, costly for 1-4 extents.
  const auto& s = a.shape();
  const auto& t = b.shape();
  if (s.size() != t.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] != t[i]) return false;
  return true;
}

// out[i] = f(a[i], b[i]); a and b of one shape.
template <class T, class F>
Tensor<T> zip(const Tensor<T>& a, const Tensor<T>& b, F f) {
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  const T* __restrict pa = a.data();
  const T* __restrict pb = b.data();
  T* __restrict po = out.data();
  for (std::size_t i = 0, n = out.size(); i < n; ++i) po[i] = f(pa[i], pb[i]);
  return out;
}

// out[i] = f(a[i]).
template <class T, class F>
Tensor<T> map(const Tensor<T>& a, F f) {
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  const T* __restrict pa = a.data();
  T* __restrict po = out.data();
  for (std::size_t i = 0, n = out.size(); i < n; ++i) po[i] = f(pa[i]);
  return out;
}

// acc[i] += g[i] for i < n.
template <class T>
void add_into(T* __restrict acc, const T* __restrict g, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += g[i];
}

}  // namespace tg

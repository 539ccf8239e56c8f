// The value type of the tape: a dense, row-major xtensor array whose scalar
// type is chosen per graph (float for training, double for gradient checks).
// Any xtensor expression converts to it; it converts to xt::xarray<T> by copy.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include <tapegrad/backend/memory.hpp>

namespace tg {

// Buffers come from tapegrad's per-thread block cache (memory.hpp).
template <class T>
using Tensor = xt::xarray<T, xt::layout_type::row_major, PoolAllocator<T>>;

using Shape = std::vector<std::size_t>;

// "(64, 128)": how every error message prints a shape.
template <class S>
std::string shape_str(const S& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

template <class S>
Shape to_shape(const S& s) {
  return Shape(s.begin(), s.end());
}

template <class S>
std::size_t shape_size(const S& s) {
  std::size_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// A tensor of the given shape, filled with zeros.
template <class T, class S>
Tensor<T> zeros(const S& shape) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  t.fill(T(0));
  return t;
}

// Thrown for every misuse the library detects: wrong shapes, bad indices,
// backward over a cleared tape. The message names the op and the values.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tg

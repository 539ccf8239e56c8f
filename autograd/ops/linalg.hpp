// Matrix products and axis permutations.
#pragma once

#include <vector>

#include "autograd/tape.hpp"

namespace tg {

// y = a b through BLAS. a is (m, k), or (..., k) with its leading axes taken
// as rows; b is (k, n); y is (m, n) or (..., n).
//   da = dy b^T        db = a^T dy
template <class T> Var<T> matmul(const Var<T>& a, const Var<T>& b);

// y = a with its axes permuted: y.shape[i] = a.shape[perm[i]]. An empty perm
// reverses the axes (the matrix transpose for 2-D). dy is permuted back.
template <class T> Var<T> transpose(const Var<T>& a, std::vector<std::size_t> perm = {});

}  // namespace tg

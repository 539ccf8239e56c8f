// Matrix products and axis permutations.
#pragma once

#include <vector>

#include <tapegrad/autograd/op.hpp>

namespace tg {

// y = a b through BLAS. a is (m, k), or (..., k) with its leading axes taken
// as rows; b is (k, n); y is (m, n) or (..., n).
//   da = dy b^T        db = a^T dy
template <class T> Var<T> matmul(const Var<T>& a, const Var<T>& b);

// Batched product through BLAS, one product per batch element:
//   y[i] = op(a[i]) op(b[i])   for i < B, op(X) = X^T where its flag is set
// a is (B, n, k), or (B, k, n) with trans_a; b is (B, k, m), or (B, m, k)
// with trans_b; y is (B, n, m). Attention scores q k^T are
// bmm(q, k, false, true), the context is bmm(weights, values).
//   dop(a)[i] = dy[i] op(b[i])^T        dop(b)[i] = op(a[i])^T dy[i]
template <class T>
Var<T> bmm(const Var<T>& a, const Var<T>& b, bool trans_a = false, bool trans_b = false);

// y = a with its axes permuted: y.shape[i] = a.shape[perm[i]]. An empty perm
// reverses the axes (the matrix transpose for 2-D). dy is permuted back.
template <class T> Var<T> transpose(const Var<T>& a, std::vector<std::size_t> perm = {});

// The backward of y = a b for a (m, k), b (k, n) and upstream dy (m, n):
// da += dy b^T and db += a^T dy, each only if it requires grad. Shared by
// every op whose forward is a product (matmul, matmul_add, affine).
template <class T>
void matmul_backward(const ValueRef<T>& a, const ValueRef<T>& b, const T* dy, int m, int n, int k);

}  // namespace tg

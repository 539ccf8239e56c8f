#include <tapegrad/autograd/ops/linalg.hpp>

#include <numeric>

#include <xtensor/xmanipulation.hpp>

#include <tapegrad/autograd/op.hpp>
#include <tapegrad/backend/blas.hpp>

namespace tg {

template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("matmul", {&a, &b});
  if (a.dim() < 1 || b.dim() != 2 || a.shape().back() != b.shape()[0])
    throw Error("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                " do not multiply (need (..., k) and (k, n))");
  const int k = static_cast<int>(b.shape()[0]);
  const int n = static_cast<int>(b.shape()[1]);
  const int m = static_cast<int>(a.size() / std::max<std::size_t>(1, a.shape().back()));
  Shape out_shape(a.shape().begin(), a.shape().end());
  out_shape.back() = n;
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  blas::gemm<T>(false, false, m, n, k, T(1), a.value().data(), b.value().data(), T(0),
                out.data());
  Var<T> y = op.result(std::move(out));
  // The backward reads the factors, not the product: each side's gradient
  // the other factor.
  op.backward(y, [a = op.save_if(b.requires_grad(), a), b = op.save_if(a.requires_grad(), b),
                  y = op.output(y), m, n, k] { matmul_backward(a, b, y.grad().data(), m, n, k); });
  return y;
}

template <class T>
void matmul_backward(const ValueRef<T>& a, const ValueRef<T>& b, const T* dy, int m, int n, int k) {
  if (a.requires_grad()) {
    const GradSink<T> da = a.grad_sink();
    if (b.is_leaf() && b.shape().size() == 2)  // a weight: B^T made once per sweep
      blas::gemm<T>(false, false, m, k, n, T(1), dy, b.transposed_value(), da.beta, da.buffer.data());
    else
      blas::gemm<T>(false, true, m, k, n, T(1), dy, b.value().data(), da.beta, da.buffer.data());
  }
  if (b.requires_grad()) {
    const GradSink<T> db = b.grad_sink();
    blas::gemm<T>(true, false, k, n, m, T(1), a.value().data(), dy, db.beta, db.buffer.data());
  }
}

template <class T>
Var<T> bmm(const Var<T>& a, const Var<T>& b, bool trans_a, bool trans_b) {
  OpScope<T> op("bmm", {&a, &b});
  const bool ranks = a.dim() == 3 && b.dim() == 3;
  const std::size_t inner_a = ranks ? a.shape()[trans_a ? 1 : 2] : 0;
  const std::size_t inner_b = ranks ? b.shape()[trans_b ? 2 : 1] : 0;
  if (!ranks || a.shape()[0] != b.shape()[0] || inner_a != inner_b)
    throw Error("bmm: shapes " + shape_str(a.shape()) + (trans_a ? "^T" : "") + " and " +
                shape_str(b.shape()) + (trans_b ? "^T" : "") +
                " do not multiply (need (B, n, k) and (B, k, m), each of the last two axes "
                "swapped where transposed)");
  const std::size_t B = a.shape()[0];
  const int n = static_cast<int>(a.shape()[trans_a ? 2 : 1]);
  const int k = static_cast<int>(inner_a);
  const int m = static_cast<int>(b.shape()[trans_b ? 1 : 2]);
  const std::size_t sa = std::size_t(n) * k, sb = std::size_t(k) * m, sy = std::size_t(n) * m;
  Tensor<T> out = Tensor<T>::from_shape(Shape{B, std::size_t(n), std::size_t(m)});
  for (std::size_t i = 0; i < B; ++i)
    blas::gemm<T>(trans_a, trans_b, n, m, k, T(1), a.value().data() + i * sa,
                  b.value().data() + i * sb, T(0), out.data() + i * sy);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.save_if(b.requires_grad(), a), b = op.save_if(a.requires_grad(), b),
                  y = op.output(y), trans_a, trans_b, B, n, k, m, sa, sb, sy] {
    const T* dy = y.grad().data();
    if (a.requires_grad()) {
      // da = dy op(b)^T, or its transpose op(b) dy^T when a is stored transposed.
      const GradSink<T> da = a.grad_sink();
      for (std::size_t i = 0; i < B; ++i) {
        const T* bi = b.value().data() + i * sb;
        T* gi = da.buffer.data() + i * sa;
        if (trans_a) blas::gemm<T>(trans_b, true, k, n, m, T(1), bi, dy + i * sy, da.beta, gi);
        else blas::gemm<T>(false, !trans_b, n, k, m, T(1), dy + i * sy, bi, da.beta, gi);
      }
    }
    if (b.requires_grad()) {
      // db = op(a)^T dy, or its transpose dy^T op(a) when b is stored transposed.
      const GradSink<T> db = b.grad_sink();
      for (std::size_t i = 0; i < B; ++i) {
        const T* ai = a.value().data() + i * sa;
        T* gi = db.buffer.data() + i * sb;
        if (trans_b) blas::gemm<T>(true, trans_a, m, k, n, T(1), dy + i * sy, ai, db.beta, gi);
        else blas::gemm<T>(!trans_a, false, k, m, n, T(1), ai, dy + i * sy, db.beta, gi);
      }
    }
  });
  return y;
}

template <class T>
Var<T> transpose(const Var<T>& a, std::vector<std::size_t> perm) {
  OpScope<T> op("transpose", {&a});
  const std::size_t d = a.dim();
  if (perm.empty()) {
    perm.resize(d);
    std::iota(perm.rbegin(), perm.rend(), std::size_t(0));
  }
  std::vector<bool> seen(d, false);
  bool ok = perm.size() == d;
  for (std::size_t p : perm) ok = ok && p < d && !seen[p] && (seen[p] = true);
  if (!ok)
    throw Error("transpose: " + shape_str(perm) + " is not a permutation of the axes of shape " +
                shape_str(a.shape()));
  std::vector<std::size_t> inverse(d);
  for (std::size_t i = 0; i < d; ++i) inverse[perm[i]] = i;
  Var<T> y = op.result(Tensor<T>(xt::transpose(a.value(), perm)));
  op.backward(y, [a = op.input(a), y = op.output(y), inverse] {
    a.accumulate(xt::transpose(y.grad(), inverse));
  });
  return y;
}

#define TG_INSTANTIATE(T)                                                 \
  template void matmul_backward(const ValueRef<T>&, const ValueRef<T>&, const T*, int, int, int); \
  template Var<T> matmul(const Var<T>&, const Var<T>&);                   \
  template Var<T> bmm(const Var<T>&, const Var<T>&, bool, bool);          \
  template Var<T> transpose(const Var<T>&, std::vector<std::size_t>);
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)

}  // namespace tg

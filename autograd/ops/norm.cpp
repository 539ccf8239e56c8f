#include <tapegrad/autograd/ops/norm.hpp>

#include <cmath>

#include <tapegrad/autograd/op.hpp>

namespace tg {

template <class T>
Var<T> layer_norm(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, scalar_t<T> eps) {
  OpScope<T> op("layer_norm", {&x, &gamma, &beta});
  const std::size_t D = x.dim() ? x.shape().back() : 0;
  if (D == 0 || to_shape(gamma.shape()) != Shape{D} || to_shape(beta.shape()) != Shape{D})
    throw Error("layer_norm: x " + shape_str(x.shape()) + ", gamma " + shape_str(gamma.shape()) +
                " and beta " + shape_str(beta.shape()) +
                ": need x of shape (..., D) with D > 0, and gamma and beta of shape (D,)");
  if (!(eps >= 0)) throw Error("layer_norm: eps " + std::to_string(eps) + " is negative or NaN");
  const std::size_t rows = x.size() / D;
  Tensor<T> out = Tensor<T>::from_shape(x.shape());
  Tensor<T> mean = Tensor<T>::from_shape(Shape{rows}), rstd = Tensor<T>::from_shape(Shape{rows});
  const T *xv = x.value().data(), *g = gamma.value().data(), *b = beta.value().data();
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = xv + r * D;
    T* yr = out.data() + r * D;
    T mu = 0, var = 0;
    for (std::size_t j = 0; j < D; ++j) mu += xr[j];
    mu /= T(D);
    for (std::size_t j = 0; j < D; ++j) var += (xr[j] - mu) * (xr[j] - mu);
    const T rs = T(1) / std::sqrt(var / T(D) + eps);
    for (std::size_t j = 0; j < D; ++j) yr[j] = (xr[j] - mu) * rs * g[j] + b[j];
    mean(r) = mu;
    rstd(r) = rs;
  }
  Var<T> y = op.result(std::move(out));
  op.backward(y, [x = op.save(x), gamma = op.save(gamma), beta = op.input(beta), y = op.output(y),
                  mean = std::move(mean), rstd = std::move(rstd), rows, D] {
    const T *dy = y.grad().data(), *xv = x.value().data(), *g = gamma.value().data();
    T* gx = x.requires_grad() ? x.grad_sink().zeroed() : nullptr;
    T* gg = gamma.requires_grad() ? gamma.grad_sink().zeroed() : nullptr;
    T* gb = beta.requires_grad() ? beta.grad_sink().zeroed() : nullptr;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* xr = xv + r * D;
      const T* dr = dy + r * D;
      const T mu = mean(r), rs = rstd(r);
      if (gb)
        for (std::size_t j = 0; j < D; ++j) gb[j] += dr[j];
      if (gg)
        for (std::size_t j = 0; j < D; ++j) gg[j] += dr[j] * (xr[j] - mu) * rs;
      if (!gx) continue;
      // mean(g) and mean(g xhat) over the row, then dx in a second pass.
      T mg = 0, mgx = 0;
      for (std::size_t j = 0; j < D; ++j) {
        const T gj = dr[j] * g[j];
        mg += gj;
        mgx += gj * (xr[j] - mu) * rs;
      }
      mg /= T(D);
      mgx /= T(D);
      T* gr = gx + r * D;
      for (std::size_t j = 0; j < D; ++j)
        gr[j] += rs * (dr[j] * g[j] - mg - (xr[j] - mu) * rs * mgx);
    }
  });
  return y;
}

template Var<float> layer_norm(const Var<float>&, const Var<float>&, const Var<float>&, float);
template Var<double> layer_norm(const Var<double>&, const Var<double>&, const Var<double>&, double);

}  // namespace tg

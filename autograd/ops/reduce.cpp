#include <tapegrad/autograd/ops/reduce.hpp>

#include <cmath>
#include <limits>

#include <tapegrad/autograd/op.hpp>
#include <tapegrad/autograd/ops/shape.hpp>

namespace tg {
namespace {

// a seen as (outer, extent, inner) around the reduced axis.
struct Around {
  std::size_t outer = 1, extent = 1, inner = 1;
  Shape out_shape;
};

template <class T>
Around around_axis(const char* op, const Var<T>& a, int axis_arg, bool keepdims) {
  const std::size_t axis = normalize_axis(op, axis_arg, a.dim());
  Around r;
  for (std::size_t i = 0; i < a.dim(); ++i) {
    if (i < axis) r.outer *= a.shape()[i];
    if (i > axis) r.inner *= a.shape()[i];
    if (i != axis) r.out_shape.push_back(a.shape()[i]);
    else if (keepdims) r.out_shape.push_back(1);
  }
  r.extent = a.shape()[axis];
  return r;
}

// Sum over all elements scaled by `scale` (1 for sum, 1/n for mean).
template <class T>
Var<T> reduce_all(const char* name, const Var<T>& a, T scale) {
  OpScope<T> op(name, {&a});
  T s = 0;
  const T* x = a.value().data();
  for (std::size_t i = 0, n = a.size(); i < n; ++i) s += x[i];
  Tensor<T> out = Tensor<T>::from_shape(Shape{});
  out() = s * scale;
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.output(y), scale] {
    const T g = y.grad()() * scale;
    T* ga = a.grad_sink().zeroed();
    for (std::size_t i = 0, n = a.size(); i < n; ++i) ga[i] += g;
  });
  return y;
}

// Sum along an axis, scaled.
template <class T>
Var<T> reduce_axis(const char* name, const Var<T>& a, int axis, bool keepdims, bool mean) {
  OpScope<T> op(name, {&a});
  const Around r = around_axis(name, a, axis, keepdims);
  const T scale = mean ? T(1) / T(std::max<std::size_t>(r.extent, 1)) : T(1);
  Tensor<T> out = tg::zeros<T>(r.out_shape);
  const T* x = a.value().data();
  T* o = out.data();
  for (std::size_t i = 0; i < r.outer; ++i)
    for (std::size_t e = 0; e < r.extent; ++e)
      for (std::size_t j = 0; j < r.inner; ++j)
        o[i * r.inner + j] += x[(i * r.extent + e) * r.inner + j];
  if (mean)
    for (std::size_t i = 0; i < out.size(); ++i) o[i] *= scale;
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.output(y), r, scale] {
    T* ga = a.grad_sink().zeroed();
    const T* dy = y.grad().data();
    for (std::size_t i = 0; i < r.outer; ++i)
      for (std::size_t e = 0; e < r.extent; ++e)
        for (std::size_t j = 0; j < r.inner; ++j)
          ga[(i * r.extent + e) * r.inner + j] += dy[i * r.inner + j] * scale;
  });
  return y;
}

}  // namespace

template <class T>
Var<T> sum(const Var<T>& a) {
  return reduce_all("sum", a, T(1));
}

template <class T>
Var<T> mean(const Var<T>& a) {
  if (a.size() == 0) throw Error("mean: the input " + shape_str(a.shape()) + " has no elements");
  return reduce_all("mean", a, T(1) / T(a.size()));
}

template <class T>
Var<T> sum(const Var<T>& a, int axis, bool keepdims) {
  return reduce_axis("sum", a, axis, keepdims, false);
}

template <class T>
Var<T> mean(const Var<T>& a, int axis, bool keepdims) {
  return reduce_axis("mean", a, axis, keepdims, true);
}

template <class T>
Var<T> max(const Var<T>& a, int axis, bool keepdims) {
  OpScope<T> op("max", {&a});
  const Around r = around_axis("max", a, axis, keepdims);
  if (r.extent == 0) throw Error("max: axis of extent 0 in shape " + shape_str(a.shape()));
  Tensor<T> out = Tensor<T>::from_shape(r.out_shape);
  std::vector<std::size_t> arg(r.outer * r.inner);  // flat index into a of each maximum
  const T* x = a.value().data();
  for (std::size_t i = 0; i < r.outer; ++i)
    for (std::size_t j = 0; j < r.inner; ++j) {
      std::size_t best = i * r.extent * r.inner + j;
      for (std::size_t e = 1; e < r.extent; ++e) {
        const std::size_t k = (i * r.extent + e) * r.inner + j;
        if (x[k] > x[best]) best = k;
      }
      arg[i * r.inner + j] = best;
      out.data()[i * r.inner + j] = x[best];
    }
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.output(y), arg = std::move(arg)] {
    T* ga = a.grad_sink().zeroed();
    const T* dy = y.grad().data();
    for (std::size_t i = 0; i < arg.size(); ++i) ga[arg[i]] += dy[i];
  });
  return y;
}

template <class T>
Var<T> logsumexp(const Var<T>& a, int axis, bool keepdims) {
  OpScope<T> op("logsumexp", {&a});
  const Around r = around_axis("logsumexp", a, axis, keepdims);
  Tensor<T> out = Tensor<T>::from_shape(r.out_shape);
  const T* x = a.value().data();
  for (std::size_t i = 0; i < r.outer; ++i)
    for (std::size_t j = 0; j < r.inner; ++j) {
      const std::size_t base = i * r.extent * r.inner + j;
      T m = -std::numeric_limits<T>::infinity();
      for (std::size_t e = 0; e < r.extent; ++e) m = std::max(m, x[base + e * r.inner]);
      if (!std::isfinite(m)) m = 0;  // all -inf: log(0) = -inf; an inf stays inf
      T s = 0;
      for (std::size_t e = 0; e < r.extent; ++e) s += std::exp(x[base + e * r.inner] - m);
      out.data()[i * r.inner + j] = m + std::log(s);
    }
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.save(a), y = op.save(y), r] {
    T* ga = a.grad_sink().zeroed();
    const T *x = a.value().data(), *yv = y.value().data(), *dy = y.grad().data();
    for (std::size_t i = 0; i < r.outer; ++i)
      for (std::size_t j = 0; j < r.inner; ++j) {
        const T lse = yv[i * r.inner + j], g = dy[i * r.inner + j];
        if (lse == -std::numeric_limits<T>::infinity()) continue;
        const std::size_t base = i * r.extent * r.inner + j;
        for (std::size_t e = 0; e < r.extent; ++e)
          ga[base + e * r.inner] += g * std::exp(x[base + e * r.inner] - lse);
      }
  });
  return y;
}

#define TG_INSTANTIATE(T)                               \
  template Var<T> sum(const Var<T>&);                   \
  template Var<T> mean(const Var<T>&);                  \
  template Var<T> sum(const Var<T>&, int, bool);        \
  template Var<T> mean(const Var<T>&, int, bool);       \
  template Var<T> max(const Var<T>&, int, bool);         \
  template Var<T> logsumexp(const Var<T>&, int, bool);
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)

}  // namespace tg

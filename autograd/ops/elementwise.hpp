// Elementwise ops. Binary ops broadcast numpy-style (shapes aligned on the
// right, extent-1 axes stretched); their backward sums the gradient back down
// to each input's shape.
#pragma once

#include <type_traits>

#include "autograd/tape.hpp"

namespace tg {

// y = a + b, a - b, a * b, a / b (broadcasting)
template <class T> Var<T> add(const Var<T>& a, const Var<T>& b);
template <class T> Var<T> sub(const Var<T>& a, const Var<T>& b);
template <class T> Var<T> mul(const Var<T>& a, const Var<T>& b);
template <class T> Var<T> div(const Var<T>& a, const Var<T>& b);
// y = -a
template <class T> Var<T> neg(const Var<T>& a);
// y = a + s, y = a * s, y = s - a, y = s / a for a scalar s
template <class T> Var<T> add_scalar(const Var<T>& a, scalar_t<T> s);
template <class T> Var<T> mul_scalar(const Var<T>& a, scalar_t<T> s);
template <class T> Var<T> rsub_scalar(scalar_t<T> s, const Var<T>& a);
template <class T> Var<T> rdiv_scalar(scalar_t<T> s, const Var<T>& a);

// y = exp(a)                         dy/da = y
template <class T> Var<T> exp(const Var<T>& a);
// y = log(a)                         dy/da = 1/a
template <class T> Var<T> log(const Var<T>& a);
// y = tanh(a)                        dy/da = 1 - y^2
template <class T> Var<T> tanh(const Var<T>& a);
// y = 1 / (1 + exp(-a))              dy/da = y (1 - y)
template <class T> Var<T> sigmoid(const Var<T>& a);
// y = max(a, 0)                      dy/da = 1 if a > 0 else 0 (0 at the kink)
template <class T> Var<T> relu(const Var<T>& a);
// y = a^p                            dy/da = p a^(p-1)
template <class T> Var<T> pow(const Var<T>& a, scalar_t<T> p);
// y = a^2                            dy/da = 2a
template <class T> Var<T> square(const Var<T>& a);
// y = sqrt(a)                        dy/da = 1 / (2y)
template <class T> Var<T> sqrt(const Var<T>& a);
// y = min(max(a, lo), hi)            dy/da = 1 if lo <= a <= hi else 0
template <class T> Var<T> clamp(const Var<T>& a, scalar_t<T> lo, scalar_t<T> hi);
// y = cond ? a : b elementwise (cond nonzero = true; all three broadcast).
// The gradient flows to a where cond holds, to b elsewhere.
template <class T> Var<T> where(const Tensor<T>& cond, const Var<T>& a, const Var<T>& b);

template <class T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <class T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <class T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <class T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }
template <class T> Var<T> operator-(const Var<T>& a) { return neg(a); }
// Scalars of any arithmetic type, on either side: `x * 0.5`, `1 - sigmoid(x)`
// and `x / 2` compile for Var<float> and Var<double> alike (s is converted to
// T), so a model templated on T needs no T(...) around its constants.
template <class S>
using if_scalar_t = std::enable_if_t<std::is_arithmetic_v<S> && !std::is_same_v<S, bool>, int>;
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator+(const Var<T>& a, S s) { return add_scalar(a, T(s)); }
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator+(S s, const Var<T>& a) { return add_scalar(a, T(s)); }
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator-(const Var<T>& a, S s) { return add_scalar(a, -T(s)); }
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator-(S s, const Var<T>& a) { return rsub_scalar(T(s), a); }
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator*(const Var<T>& a, S s) { return mul_scalar(a, T(s)); }
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator*(S s, const Var<T>& a) { return mul_scalar(a, T(s)); }
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator/(const Var<T>& a, S s) { return mul_scalar(a, T(1) / T(s)); }
template <class T, class S, if_scalar_t<S> = 0> Var<T> operator/(S s, const Var<T>& a) { return rdiv_scalar(T(s), a); }

// The shape a and b broadcast to; throws naming `op` and both shapes.
template <class SA, class SB>
Shape broadcast_shape(const char* op, const SA& a, const SB& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                  " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace tg

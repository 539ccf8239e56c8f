// Elementwise ops. Binary ops broadcast numpy-style (shapes aligned on the
// right, extent-1 axes stretched); their backward sums the gradient back down
// to each input's shape.
#pragma once

#include <type_traits>

#include <tapegrad/autograd/tape.hpp>

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
// y = tan(a)                         dy/da = 1 + y^2
template <class T> Var<T> tan(const Var<T>& a);
// y = 1 / (1 + exp(-a))              dy/da = y (1 - y)
template <class T> Var<T> sigmoid(const Var<T>& a);
// y = max(a, 0)                      dy/da = 1 if a > 0 else 0 (0 at the kink)
template <class T> Var<T> relu(const Var<T>& a);
// y = |a|                           dy/da = sign(a) (0 at the kink)
template <class T> Var<T> abs(const Var<T>& a);
// y = a^p                            dy/da = p a^(p-1)
template <class T> Var<T> pow(const Var<T>& a, scalar_t<T> p);
// y = a^2                            dy/da = 2a
template <class T> Var<T> square(const Var<T>& a);
// y = sqrt(a)                        dy/da = 1 / (2y)
template <class T> Var<T> sqrt(const Var<T>& a);
// y = min(max(a, lo), hi)            dy/da = 1 if lo <= a <= hi else 0
template <class T> Var<T> clamp(const Var<T>& a, scalar_t<T> lo, scalar_t<T> hi);
// y = max(a, b), y = min(a, b) elementwise (broadcasting). The gradient goes
// to the side that wins; at a tie (a == b) each side gets half of it, as in
// PyTorch (a valid subgradient, and maximum(x, x) still has dy/dx = 1).
template <class T> Var<T> maximum(const Var<T>& a, const Var<T>& b);
template <class T> Var<T> minimum(const Var<T>& a, const Var<T>& b);
// y = cond ? a : b elementwise (cond nonzero = true; all three broadcast).
// The gradient flows to a where cond holds, to b elsewhere. Call it as
// tg::where: xt::where is found too (cond is an xtensor array).
template <class T> Var<T> where(const tensor_arg_t<T>& cond, const Var<T>& a, const Var<T>& b);
// The same with a scalar for one side: y = cond ? a : s, y = cond ? s : b.
template <class T> Var<T> where(const tensor_arg_t<T>& cond, const Var<T>& a, scalar_t<T> s);
template <class T> Var<T> where(const tensor_arg_t<T>& cond, scalar_t<T> s, const Var<T>& b);
// y = mask ? value : a: a with the positions where mask is nonzero set to
// value (mask broadcasts against a). da = dy where mask is 0, else 0.
// Before a softmax, masked_softmax is the better tool for padding: it keeps
// a row that is all padding at 0 where -inf fills would give NaN.
template <class T> Var<T> masked_fill(const Var<T>& a, const tensor_arg_t<T>& mask, scalar_t<T> value);

// Activations. Elementwise:
// y = log(1 + exp(a)), computed as max(a, 0) + log1p(exp(-|a|))
//                                    dy/da = sigmoid(a)
template <class T> Var<T> softplus(const Var<T>& a);
// y = a sigmoid(a) (SiLU, swish)     dy/da = s (1 + a (1 - s)), s = sigmoid(a)
template <class T> Var<T> silu(const Var<T>& a);
// GELU, y = a Phi(a) with Phi the standard normal CDF.
//   GeluApprox::none (erf form):  y = a/2 (1 + erf(a / sqrt 2))
//       dy/da = Phi(a) + a phi(a),  phi(a) = exp(-a^2 / 2) / sqrt(2 pi)
//   GeluApprox::tanh:  u = sqrt(2/pi) (a + 0.044715 a^3),  y = a/2 (1 + tanh u)
//       dy/da = (1 + tanh u) / 2 + a/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 0.044715 a^2)
enum class GeluApprox { none, tanh };
template <class T> Var<T> gelu(const Var<T>& a, GeluApprox approx = GeluApprox::none);
// y = a if a > 0 else slope a        dy/da = 1 if a > 0 else slope (slope at
// the kink, as relu's 0 is its left side)
template <class T> Var<T> leaky_relu(const Var<T>& a, scalar_t<T> slope = scalar_t<T>(0.01));
// Over an axis (negative counts from the end); defined with the losses in
// ops/loss.cpp, whose cross-entropy shares their kernel:
// y = exp(a - max) / sum(exp(a - max)) along axis.   da = y (dy - sum(dy y))
template <class T> Var<T> softmax(const Var<T>& a, int axis = -1);
// y = a - max - log(sum(exp(a - max))) along axis.   da = dy - softmax(a) sum(dy)
template <class T> Var<T> log_softmax(const Var<T>& a, int axis = -1);
// Softmax over the entries where mask is nonzero (mask broadcasts to a's
// shape: (B, 1, T) or (B, T) padding masks for (B, Tq, T) scores); masked
// entries get probability 0, and a row with no entry kept is all 0 (not NaN).
//   da = y (dy - sum(dy y)), which is 0 at masked entries
template <class T> Var<T> masked_softmax(const Var<T>& a, const tensor_arg_t<T>& mask, int axis = -1);

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

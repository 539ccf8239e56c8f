#include <tapegrad/autograd/ops/elementwise.hpp>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include <tapegrad/autograd/op.hpp>
#include <tapegrad/backend/activation.hpp>

namespace tg {
namespace {

// d(a * b)/da = dy * b, on raw loops when b has y's shape (dy's).
template <class T>
void accumulate_product(const GradRef<T>& in, const Tensor<T>& dy, const Tensor<T>& other) {
  if (!shapes_equal(other, dy)) return in.accumulate(dy * other);
  in.accumulate(zip(dy, other, [](T d, T o) { return d * o; }));
}

// a op b: raw loops when the shapes match, xtensor's broadcasting otherwise.
template <class T, class F, class E>
Tensor<T> binary(const Var<T>& a, const Var<T>& b, F f, E&& broadcast) {
  if (shapes_equal(a.value(), b.value())) return zip(a.value(), b.value(), f);
  return Tensor<T>(broadcast);
}

template <class T>
void check_broadcast(const char* op, const Var<T>& a, const Var<T>& b) {
  if (a.shape() != b.shape()) broadcast_shape(op, a.shape(), b.shape());
}

}  // namespace

template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("add", {&a, &b});
  check_broadcast("add", a, b);
  Var<T> y = op.result(binary(a, b, [](T p, T q) { return p + q; }, a.value() + b.value()));
  // dy passes on unchanged; the last input to get it may take the buffer.
  op.backward(y, [a = op.input(a), b = op.input(b), y = op.output(y)] {
    if (a.requires_grad() && b.requires_grad()) a.accumulate(y.grad());
    else if (a.requires_grad()) a.accumulate(std::move(y.grad()));
    if (b.requires_grad()) b.accumulate(std::move(y.grad()));
  });
  return y;
}

template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("sub", {&a, &b});
  check_broadcast("sub", a, b);
  Var<T> y = op.result(binary(a, b, [](T p, T q) { return p - q; }, a.value() - b.value()));
  op.backward(y, [a = op.input(a), b = op.input(b), y = op.output(y)] {
    if (a.requires_grad() && b.requires_grad()) a.accumulate(y.grad());
    else if (a.requires_grad()) a.accumulate(std::move(y.grad()));
    if (b.requires_grad()) {
      for (T& g : y.grad()) g = -g;  // y's gradient is spent after this record
      b.accumulate(std::move(y.grad()));
    }
  });
  return y;
}

template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("mul", {&a, &b});
  check_broadcast("mul", a, b);
  Var<T> y = op.result(binary(a, b, [](T p, T q) { return p * q; }, a.value() * b.value()));
  // Each side's gradient reads only the other factor.
  op.backward(y, [a = op.save_if(b.requires_grad(), a), b = op.save_if(a.requires_grad(), b),
                  y = op.output(y)] {
    if (a.requires_grad()) accumulate_product(a, y.grad(), b.value());
    if (b.requires_grad()) accumulate_product(b, y.grad(), a.value());
  });
  return y;
}

template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("div", {&a, &b});
  check_broadcast("div", a, b);
  Var<T> y = op.result(a.value() / b.value());
  // dy/da = 1/b, dy/db = -a/b^2 = -y/b
  op.backward(y, [a = op.input(a), b = op.save(b), y = op.save_if(b.requires_grad(), y)] {
    if (a.requires_grad()) a.accumulate(y.grad() / b.value());
    if (b.requires_grad()) b.accumulate(-y.grad() * y.value() / b.value());
  });
  return y;
}

template <class T>
Var<T> neg(const Var<T>& a) {
  OpScope<T> op("neg", {&a});
  Var<T> y = op.result(-a.value());
  op.backward(y, [a = op.input(a), y = op.output(y)] { a.accumulate(-y.grad()); });
  return y;
}

template <class T>
Var<T> add_scalar(const Var<T>& a, scalar_t<T> s) {
  OpScope<T> op("add_scalar", {&a});
  Var<T> y = op.result(a.value() + s);
  op.backward(y, [a = op.input(a), y = op.output(y)] { a.accumulate(y.grad()); });
  return y;
}

template <class T>
Var<T> mul_scalar(const Var<T>& a, scalar_t<T> s) {
  OpScope<T> op("mul_scalar", {&a});
  Var<T> y = op.result(a.value() * s);
  op.backward(y, [a = op.input(a), y = op.output(y), s] { a.accumulate(y.grad() * s); });
  return y;
}

template <class T>
Var<T> rsub_scalar(scalar_t<T> s, const Var<T>& a) {
  OpScope<T> op("rsub_scalar", {&a});
  Var<T> y = op.result(s - a.value());
  op.backward(y, [a = op.input(a), y = op.output(y)] { a.accumulate(-y.grad()); });
  return y;
}

template <class T>
Var<T> rdiv_scalar(scalar_t<T> s, const Var<T>& a) {
  OpScope<T> op("rdiv_scalar", {&a});
  Var<T> y = op.result(s / a.value());
  // d(s/a)/da = -s/a^2 = -y/a
  op.backward(y, [a = op.save(a), y = op.save(y)] { a.accumulate(-y.grad() * y.value() / a.value()); });
  return y;
}

template <class T>
Var<T> exp(const Var<T>& a) {
  OpScope<T> op("exp", {&a});
  Var<T> y = op.result(xt::exp(a.value()));
  op.backward(y, [a = op.input(a), y = op.save(y)] { a.accumulate(y.grad() * y.value()); });
  return y;
}

template <class T>
Var<T> log(const Var<T>& a) {
  OpScope<T> op("log", {&a});
  Var<T> y = op.result(xt::log(a.value()));
  op.backward(y, [a = op.save(a), y = op.output(y)] { a.accumulate(y.grad() / a.value()); });
  return y;
}

template <class T>
Var<T> tanh(const Var<T>& a) {
  OpScope<T> op("tanh", {&a});
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  activation::tanh(a.value().data(), out.data(), out.size());
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.save(y)] {
    a.accumulate(y.grad() * (T(1) - y.value() * y.value()));
  });
  return y;
}

template <class T>
Var<T> tan(const Var<T>& a) {
  OpScope<T> op("tan", {&a});
  Var<T> y = op.result(xt::tan(a.value()));
  op.backward(y, [a = op.input(a), y = op.save(y)] {  // reads y only: a may be released
    a.accumulate(y.grad() * (T(1) + y.value() * y.value()));
  });
  return y;
}

template <class T>
Var<T> sigmoid(const Var<T>& a) {
  OpScope<T> op("sigmoid", {&a});
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  activation::sigmoid(a.value().data(), out.data(), out.size());
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.save(y)] {
    a.accumulate(y.grad() * y.value() * (T(1) - y.value()));
  });
  return y;
}

template <class T>
Var<T> relu(const Var<T>& a) {
  OpScope<T> op("relu", {&a});
  Var<T> y = op.result(xt::maximum(a.value(), T(0)));
  op.backward(y, [a = op.save(a), y = op.output(y)] {
    a.accumulate(xt::where(a.value() > T(0), y.grad(), T(0)));
  });
  return y;
}

template <class T>
Var<T> abs(const Var<T>& a) {
  OpScope<T> op("abs", {&a});
  Var<T> y = op.result(xt::abs(a.value()));
  op.backward(y, [a = op.save(a), y = op.output(y)] {
    const Tensor<T>& x = a.value();
    a.accumulate(xt::where(x > T(0), y.grad(), xt::where(x < T(0), -y.grad(), T(0))));
  });
  return y;
}

template <class T>
Var<T> pow(const Var<T>& a, scalar_t<T> p) {
  OpScope<T> op("pow", {&a});
  Var<T> y = op.result(xt::pow(a.value(), p));
  op.backward(y, [a = op.save(a), y = op.output(y), p] {
    a.accumulate(y.grad() * p * xt::pow(a.value(), p - T(1)));
  });
  return y;
}

template <class T>
Var<T> square(const Var<T>& a) {
  OpScope<T> op("square", {&a});
  Var<T> y = op.result(a.value() * a.value());
  op.backward(y, [a = op.save(a), y = op.output(y)] { a.accumulate(T(2) * y.grad() * a.value()); });
  return y;
}

template <class T>
Var<T> sqrt(const Var<T>& a) {
  OpScope<T> op("sqrt", {&a});
  Var<T> y = op.result(xt::sqrt(a.value()));
  op.backward(y, [a = op.input(a), y = op.save(y)] { a.accumulate(y.grad() / (T(2) * y.value())); });
  return y;
}

template <class T>
Var<T> clamp(const Var<T>& a, scalar_t<T> lo, scalar_t<T> hi) {
  OpScope<T> op("clamp", {&a});
  if (!(lo <= hi))
    throw Error("clamp: lower bound " + std::to_string(lo) + " exceeds upper bound " +
                std::to_string(hi));
  Var<T> y = op.result(xt::clip(a.value(), lo, hi));
  op.backward(y, [a = op.save(a), y = op.output(y), lo, hi] {
    a.accumulate(xt::where(a.value() >= lo && a.value() <= hi, y.grad(), T(0)));
  });
  return y;
}

template <class T>
Var<T> where(const tensor_arg_t<T>& cond, const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("where", {&a, &b});
  Shape ab = broadcast_shape("where", a.shape(), b.shape());
  broadcast_shape("where", cond.shape(), ab);
  Var<T> y = op.result(xt::where(xt::not_equal(cond, T(0)), a.value(), b.value()));
  op.backward(y, [c = cond, a = op.input(a), b = op.input(b), y = op.output(y)] {
    if (a.requires_grad()) a.accumulate(xt::where(xt::not_equal(c, T(0)), y.grad(), T(0)));
    if (b.requires_grad()) b.accumulate(xt::where(xt::not_equal(c, T(0)), T(0), y.grad()));
  });
  return y;
}

namespace {

// maximum (is_max) or minimum of a and b. The share of the gradient a gets:
// 1 where it wins, 1/2 at a tie, 0 where b wins; b gets the rest.
template <class T>
Var<T> extremum(const char* name, const Var<T>& a, const Var<T>& b, bool is_max) {
  OpScope<T> op(name, {&a, &b});
  check_broadcast(name, a, b);
  Var<T> y = op.result(is_max ? Tensor<T>(xt::maximum(a.value(), b.value()))
                              : Tensor<T>(xt::minimum(a.value(), b.value())));
  op.backward(y, [a = op.save(a), b = op.save(b), y = op.output(y), is_max] {
    const Tensor<T>& p = is_max ? a.value() : b.value();  // a wins where p > q
    const Tensor<T>& q = is_max ? b.value() : a.value();
    const Tensor<T> share_a = xt::where(p > q, T(1), xt::where(xt::equal(p, q), T(0.5), T(0)));
    if (a.requires_grad()) a.accumulate(y.grad() * share_a);
    if (b.requires_grad()) b.accumulate(y.grad() * (T(1) - share_a));
  });
  return y;
}

// y = cond ? a : s (a_where_true) or cond ? s : a.
template <class T>
Var<T> select_scalar(const char* name, const Tensor<T>& cond, const Var<T>& a, T s, bool a_where_true) {
  OpScope<T> op(name, {&a});
  broadcast_shape(name, cond.shape(), a.shape());
  const auto keep = xt::equal(xt::not_equal(cond, T(0)), a_where_true);
  Var<T> y = op.result(xt::where(keep, a.value(), s));
  op.backward(y, [c = cond, a = op.input(a), y = op.output(y), a_where_true] {
    a.accumulate(xt::where(xt::equal(xt::not_equal(c, T(0)), a_where_true), y.grad(), T(0)));
  });
  return y;
}

}  // namespace

template <class T>
Var<T> maximum(const Var<T>& a, const Var<T>& b) {
  return extremum("maximum", a, b, true);
}

template <class T>
Var<T> minimum(const Var<T>& a, const Var<T>& b) {
  return extremum("minimum", a, b, false);
}

template <class T>
Var<T> where(const tensor_arg_t<T>& cond, const Var<T>& a, scalar_t<T> s) {
  return select_scalar("where", cond, a, s, true);
}

template <class T>
Var<T> where(const tensor_arg_t<T>& cond, scalar_t<T> s, const Var<T>& b) {
  return select_scalar("where", cond, b, s, false);
}

template <class T>
Var<T> masked_fill(const Var<T>& a, const tensor_arg_t<T>& mask, scalar_t<T> value) {
  return select_scalar("masked_fill", mask, a, value, false);
}

template <class T>
Var<T> softplus(const Var<T>& a) {
  OpScope<T> op("softplus", {&a});
  Var<T> y = op.result(xt::maximum(a.value(), T(0)) + xt::log1p(xt::exp(-xt::abs(a.value()))));
  op.backward(y, [a = op.save(a), y = op.output(y)] {
    a.accumulate(y.grad() / (T(1) + xt::exp(-a.value())));
  });
  return y;
}

template <class T>
Var<T> silu(const Var<T>& a) {
  OpScope<T> op("silu", {&a});
  Var<T> y = op.result(a.value() / (T(1) + xt::exp(-a.value())));
  op.backward(y, [a = op.save(a), y = op.output(y)] {
    const Tensor<T>& x = a.value();
    const Tensor<T> s = T(1) / (T(1) + xt::exp(-x));
    a.accumulate(y.grad() * s * (T(1) + x * (T(1) - s)));
  });
  return y;
}

template <class T>
Var<T> gelu(const Var<T>& a, GeluApprox approx) {
  OpScope<T> op("gelu", {&a});
  const T k = T(0.7978845608028654);  // sqrt(2 / pi)
  const T c = T(0.044715);
  const auto& x = a.value();
  Var<T> y = op.result(approx == GeluApprox::tanh
                           ? Tensor<T>(T(0.5) * x * (T(1) + xt::tanh(k * (x + c * x * x * x))))
                           : Tensor<T>(T(0.5) * x * (T(1) + xt::erf(x * T(0.7071067811865476)))));
  op.backward(y, [a = op.save(a), y = op.output(y), approx, k, c] {
    const auto& x = a.value();
    if (approx == GeluApprox::tanh) {
      const Tensor<T> t = xt::tanh(k * (x + c * x * x * x));
      a.accumulate(y.grad() * (T(0.5) * (T(1) + t) +
                               T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x)));
    } else {
      const T inv_sqrt_2pi = T(0.3989422804014327);
      a.accumulate(y.grad() * (T(0.5) * (T(1) + xt::erf(x * T(0.7071067811865476))) +
                               x * inv_sqrt_2pi * xt::exp(T(-0.5) * x * x)));
    }
  });
  return y;
}

template <class T>
Var<T> leaky_relu(const Var<T>& a, scalar_t<T> slope) {
  OpScope<T> op("leaky_relu", {&a});
  Var<T> y = op.result(xt::where(a.value() > T(0), a.value(), slope * a.value()));
  op.backward(y, [a = op.save(a), y = op.output(y), slope] {
    a.accumulate(xt::where(a.value() > T(0), y.grad(), slope * y.grad()));
  });
  return y;
}

#define TG_INSTANTIATE(T)                                                   \
  template Var<T> add(const Var<T>&, const Var<T>&);                        \
  template Var<T> sub(const Var<T>&, const Var<T>&);                        \
  template Var<T> mul(const Var<T>&, const Var<T>&);                        \
  template Var<T> div(const Var<T>&, const Var<T>&);                        \
  template Var<T> neg(const Var<T>&);                                       \
  template Var<T> add_scalar(const Var<T>&, T);                             \
  template Var<T> mul_scalar(const Var<T>&, T);                             \
  template Var<T> rsub_scalar(T, const Var<T>&);                            \
  template Var<T> rdiv_scalar(T, const Var<T>&);                            \
  template Var<T> exp(const Var<T>&);                                       \
  template Var<T> log(const Var<T>&);                                       \
  template Var<T> tanh(const Var<T>&);                                      \
  template Var<T> tan(const Var<T>&);                                       \
  template Var<T> sigmoid(const Var<T>&);                                   \
  template Var<T> relu(const Var<T>&);                                      \
  template Var<T> abs(const Var<T>&);                                       \
  template Var<T> pow(const Var<T>&, T);                                    \
  template Var<T> square(const Var<T>&);                                    \
  template Var<T> sqrt(const Var<T>&);                                      \
  template Var<T> clamp(const Var<T>&, T, T);                               \
  template Var<T> where(const Tensor<T>&, const Var<T>&, const Var<T>&);   \
  template Var<T> maximum(const Var<T>&, const Var<T>&);                    \
  template Var<T> minimum(const Var<T>&, const Var<T>&);                    \
  template Var<T> where(const Tensor<T>&, const Var<T>&, T);                \
  template Var<T> where(const Tensor<T>&, T, const Var<T>&);                \
  template Var<T> masked_fill(const Var<T>&, const Tensor<T>&, T);          \
  template Var<T> softplus(const Var<T>&);                                  \
  template Var<T> silu(const Var<T>&);                                      \
  template Var<T> gelu(const Var<T>&, GeluApprox);                          \
  template Var<T> leaky_relu(const Var<T>&, T);
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)

}  // namespace tg

#include <tapegrad/autograd/ops/elementwise.hpp>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include <tapegrad/backend/activation.hpp>

namespace tg {
namespace {

// Adds the gradient expression g (shaped like y) to `in`: directly when the
// shapes match, summed down to in's shape when `in` was broadcast.
template <class T, class E>
void contribute(Node<T>& in, const Node<T>& y, const E& g) {
  if (shapes_equal(in.value, y.value))
    in.add_grad(g);
  else
    in.add_grad_sum_to(Tensor<T>(g));
}

// The same for a gradient nobody reads afterwards (y's own, which backward
// drops after this record, or a temporary): `in` takes the buffer when it
// has no gradient yet.
template <class T>
void contribute_spent(Node<T>& in, const Node<T>& y, Tensor<T>& g) {
  if (shapes_equal(in.value, y.value))
    in.add_grad_take(g);
  else
    in.add_grad_sum_to(g);
}

// d(a * b)/da = dy * b, on raw loops when b has y's shape.
template <class T>
void contribute_product(Node<T>& in, const Node<T>& y, const Tensor<T>& other) {
  if (!shapes_equal(other, y.value)) return contribute(in, y, y.grad * other);
  Tensor<T> g = zip(y.grad, other, [](T d, T o) { return d * o; });
  contribute_spent(in, y, g);
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
  Tape<T>& tape = tape_of("add", {&a, &b}, saves_chosen);
  check_broadcast("add", a, b);
  Tensor<T> out = binary(a, b, [](T p, T q) { return p + q; }, a.value() + b.value());
  Var<T> y = tape.result(std::move(out), a.requires_grad() || b.requires_grad(), saves_chosen);
  // dy passes on unchanged; the last input to get it may take the buffer.
  tape.record(y, [a = a.node(), b = b.node(), y = y.node()] {
    if (a->requires_grad && b->requires_grad) contribute(*a, *y, y->grad);
    else if (a->requires_grad) contribute_spent(*a, *y, y->grad);
    if (b->requires_grad) contribute_spent(*b, *y, y->grad);
  });
  return y;
}

template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  Tape<T>& tape = tape_of("sub", {&a, &b}, saves_chosen);
  check_broadcast("sub", a, b);
  Tensor<T> out = binary(a, b, [](T p, T q) { return p - q; }, a.value() - b.value());
  Var<T> y = tape.result(std::move(out), a.requires_grad() || b.requires_grad(), saves_chosen);
  tape.record(y, [a = a.node(), b = b.node(), y = y.node()] {
    if (a->requires_grad && b->requires_grad) contribute(*a, *y, y->grad);
    else if (a->requires_grad) contribute_spent(*a, *y, y->grad);
    if (b->requires_grad) {
      for (T& g : y->grad) g = -g;  // y's gradient is spent after this record
      contribute_spent(*b, *y, y->grad);
    }
  });
  return y;
}

template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  Tape<T>& tape = tape_of("mul", {&a, &b}, saves_chosen);
  check_broadcast("mul", a, b);
  if (a.requires_grad()) tape.save(b);  // the backward reads only the other factor
  if (b.requires_grad()) tape.save(a);
  Tensor<T> out = binary(a, b, [](T p, T q) { return p * q; }, a.value() * b.value());
  Var<T> y = tape.result(std::move(out), a.requires_grad() || b.requires_grad(), saves_chosen);
  tape.record(y, [a = a.node(), b = b.node(), y = y.node()] {
    if (a->requires_grad) contribute_product(*a, *y, b->value);
    if (b->requires_grad) contribute_product(*b, *y, a->value);
  });
  return y;
}

template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  Tape<T>& tape = tape_of("div", {&a, &b});
  check_broadcast("div", a, b);
  Var<T> y = tape.result(a.value() / b.value(), a.requires_grad() || b.requires_grad());
  // dy/da = 1/b, dy/db = -a/b^2 = -y/b
  tape.record(y, [a = a.node(), b = b.node(), y = y.node()] {
    if (a->requires_grad) contribute(*a, *y, y->grad / b->value);
    if (b->requires_grad) contribute(*b, *y, -y->grad * y->value / b->value);
  });
  return y;
}

template <class T>
Var<T> neg(const Var<T>& a) {
  Tape<T>& tape = tape_of("neg", {&a}, saves_chosen);
  Var<T> y = tape.result(-a.value(), a.requires_grad(), saves_chosen);
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(-y->grad); });
  return y;
}

template <class T>
Var<T> add_scalar(const Var<T>& a, scalar_t<T> s) {
  Tape<T>& tape = tape_of("add_scalar", {&a}, saves_chosen);
  Var<T> y = tape.result(a.value() + s, a.requires_grad(), saves_chosen);
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(y->grad); });
  return y;
}

template <class T>
Var<T> mul_scalar(const Var<T>& a, scalar_t<T> s) {
  Tape<T>& tape = tape_of("mul_scalar", {&a}, saves_chosen);
  Var<T> y = tape.result(a.value() * s, a.requires_grad(), saves_chosen);
  tape.record(y, [a = a.node(), y = y.node(), s] { a->add_grad(y->grad * s); });
  return y;
}

template <class T>
Var<T> rsub_scalar(scalar_t<T> s, const Var<T>& a) {
  Tape<T>& tape = tape_of("rsub_scalar", {&a}, saves_chosen);
  Var<T> y = tape.result(s - a.value(), a.requires_grad(), saves_chosen);
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(-y->grad); });
  return y;
}

template <class T>
Var<T> rdiv_scalar(scalar_t<T> s, const Var<T>& a) {
  Tape<T>& tape = tape_of("rdiv_scalar", {&a});
  Var<T> y = tape.result(s / a.value(), a.requires_grad());
  // d(s/a)/da = -s/a^2 = -y/a
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(-y->grad * y->value / a->value); });
  return y;
}

template <class T>
Var<T> exp(const Var<T>& a) {
  Tape<T>& tape = tape_of("exp", {&a});
  Var<T> y = tape.result(xt::exp(a.value()), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(y->grad * y->value); });
  return y;
}

template <class T>
Var<T> log(const Var<T>& a) {
  Tape<T>& tape = tape_of("log", {&a});
  Var<T> y = tape.result(xt::log(a.value()), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(y->grad / a->value); });
  return y;
}

template <class T>
Var<T> tanh(const Var<T>& a) {
  Tape<T>& tape = tape_of("tanh", {&a});
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  activation::tanh(a.value().data(), out.data(), out.size());
  Var<T> y = tape.result(std::move(out), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] {
    a->add_grad(y->grad * (T(1) - y->value * y->value));
  });
  return y;
}

template <class T>
Var<T> sigmoid(const Var<T>& a) {
  Tape<T>& tape = tape_of("sigmoid", {&a});
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  activation::sigmoid(a.value().data(), out.data(), out.size());
  Var<T> y = tape.result(std::move(out), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] {
    a->add_grad(y->grad * y->value * (T(1) - y->value));
  });
  return y;
}

template <class T>
Var<T> relu(const Var<T>& a) {
  Tape<T>& tape = tape_of("relu", {&a});
  Var<T> y = tape.result(xt::maximum(a.value(), T(0)), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] {
    a->add_grad(xt::where(a->value > T(0), y->grad, T(0)));
  });
  return y;
}

template <class T>
Var<T> abs(const Var<T>& a) {
  Tape<T>& tape = tape_of("abs", {&a});
  Var<T> y = tape.result(xt::abs(a.value()), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] {
    a->add_grad(xt::where(a->value > T(0), y->grad, xt::where(a->value < T(0), -y->grad, T(0))));
  });
  return y;
}

template <class T>
Var<T> pow(const Var<T>& a, scalar_t<T> p) {
  Tape<T>& tape = tape_of("pow", {&a});
  Var<T> y = tape.result(xt::pow(a.value(), p), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node(), p] {
    a->add_grad(y->grad * p * xt::pow(a->value, p - T(1)));
  });
  return y;
}

template <class T>
Var<T> square(const Var<T>& a) {
  Tape<T>& tape = tape_of("square", {&a});
  Var<T> y = tape.result(a.value() * a.value(), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(T(2) * y->grad * a->value); });
  return y;
}

template <class T>
Var<T> sqrt(const Var<T>& a) {
  Tape<T>& tape = tape_of("sqrt", {&a});
  Var<T> y = tape.result(xt::sqrt(a.value()), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] { a->add_grad(y->grad / (T(2) * y->value)); });
  return y;
}

template <class T>
Var<T> clamp(const Var<T>& a, scalar_t<T> lo, scalar_t<T> hi) {
  Tape<T>& tape = tape_of("clamp", {&a});
  if (!(lo <= hi))
    throw Error("clamp: lower bound " + std::to_string(lo) + " exceeds upper bound " +
                std::to_string(hi));
  Var<T> y = tape.result(xt::clip(a.value(), lo, hi), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node(), lo, hi] {
    a->add_grad(xt::where(a->value >= lo && a->value <= hi, y->grad, T(0)));
  });
  return y;
}

template <class T>
Var<T> where(const tensor_arg_t<T>& cond, const Var<T>& a, const Var<T>& b) {
  Tape<T>& tape = tape_of("where", {&a, &b}, saves_chosen);
  Shape ab = broadcast_shape("where", a.shape(), b.shape());
  broadcast_shape("where", cond.shape(), ab);
  Var<T> y = tape.result(xt::where(xt::not_equal(cond, T(0)), a.value(), b.value()),
                         a.requires_grad() || b.requires_grad(), saves_chosen);
  tape.record(y, [c = cond, a = a.node(), b = b.node(), y = y.node()] {
    if (a->requires_grad) contribute(*a, *y, xt::where(xt::not_equal(c, T(0)), y->grad, T(0)));
    if (b->requires_grad) contribute(*b, *y, xt::where(xt::not_equal(c, T(0)), T(0), y->grad));
  });
  return y;
}

namespace {

// maximum (is_max) or minimum of a and b. The share of the gradient a gets:
// 1 where it wins, 1/2 at a tie, 0 where b wins; b gets the rest.
template <class T>
Var<T> extremum(const char* op, const Var<T>& a, const Var<T>& b, bool is_max) {
  Tape<T>& tape = tape_of(op, {&a, &b});
  check_broadcast(op, a, b);
  Tensor<T> out = is_max ? Tensor<T>(xt::maximum(a.value(), b.value()))
                         : Tensor<T>(xt::minimum(a.value(), b.value()));
  Var<T> y = tape.result(std::move(out), a.requires_grad() || b.requires_grad());
  tape.record(y, [a = a.node(), b = b.node(), y = y.node(), is_max] {
    const Tensor<T>& p = is_max ? a->value : b->value;  // a wins where p > q
    const Tensor<T>& q = is_max ? b->value : a->value;
    const Tensor<T> share_a = xt::where(p > q, T(1), xt::where(xt::equal(p, q), T(0.5), T(0)));
    if (a->requires_grad) contribute(*a, *y, y->grad * share_a);
    if (b->requires_grad) contribute(*b, *y, y->grad * (T(1) - share_a));
  });
  return y;
}

// y = cond ? a : s (a_where_true) or cond ? s : a.
template <class T>
Var<T> select_scalar(const char* op, const Tensor<T>& cond, const Var<T>& a, T s, bool a_where_true) {
  Tape<T>& tape = tape_of(op, {&a});
  broadcast_shape(op, cond.shape(), a.shape());
  const auto keep = xt::equal(xt::not_equal(cond, T(0)), a_where_true);
  Var<T> y = tape.result(xt::where(keep, a.value(), s), a.requires_grad());
  tape.record(y, [c = cond, a = a.node(), y = y.node(), a_where_true] {
    contribute(*a, *y, xt::where(xt::equal(xt::not_equal(c, T(0)), a_where_true), y->grad, T(0)));
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
  Tape<T>& tape = tape_of("softplus", {&a});
  Var<T> y = tape.result(xt::maximum(a.value(), T(0)) + xt::log1p(xt::exp(-xt::abs(a.value()))),
                         a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] {
    a->add_grad(y->grad / (T(1) + xt::exp(-a->value)));
  });
  return y;
}

template <class T>
Var<T> silu(const Var<T>& a) {
  Tape<T>& tape = tape_of("silu", {&a});
  Var<T> y = tape.result(a.value() / (T(1) + xt::exp(-a.value())), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node()] {
    const Tensor<T> s = T(1) / (T(1) + xt::exp(-a->value));
    a->add_grad(y->grad * s * (T(1) + a->value * (T(1) - s)));
  });
  return y;
}

template <class T>
Var<T> gelu(const Var<T>& a, GeluApprox approx) {
  Tape<T>& tape = tape_of("gelu", {&a});
  const T k = T(0.7978845608028654);  // sqrt(2 / pi)
  const T c = T(0.044715);
  const auto& x = a.value();
  Tensor<T> out = approx == GeluApprox::tanh
                      ? Tensor<T>(T(0.5) * x * (T(1) + xt::tanh(k * (x + c * x * x * x))))
                      : Tensor<T>(T(0.5) * x * (T(1) + xt::erf(x * T(0.7071067811865476))));
  Var<T> y = tape.result(std::move(out), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node(), approx, k, c] {
    const auto& x = a->value;
    if (approx == GeluApprox::tanh) {
      const Tensor<T> t = xt::tanh(k * (x + c * x * x * x));
      a->add_grad(y->grad * (T(0.5) * (T(1) + t) +
                             T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x)));
    } else {
      const T inv_sqrt_2pi = T(0.3989422804014327);
      a->add_grad(y->grad * (T(0.5) * (T(1) + xt::erf(x * T(0.7071067811865476))) +
                             x * inv_sqrt_2pi * xt::exp(T(-0.5) * x * x)));
    }
  });
  return y;
}

template <class T>
Var<T> leaky_relu(const Var<T>& a, scalar_t<T> slope) {
  Tape<T>& tape = tape_of("leaky_relu", {&a});
  Var<T> y = tape.result(xt::where(a.value() > T(0), a.value(), slope * a.value()), a.requires_grad());
  tape.record(y, [a = a.node(), y = y.node(), slope] {
    a->add_grad(xt::where(a->value > T(0), y->grad, slope * y->grad));
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

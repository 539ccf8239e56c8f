// Scalars of any arithmetic type on either side of a Var<float> or
// Var<double>: the expressions compile (checked at compile time), give the
// values of the same arithmetic on T, and the gradients of it.
#include "check.hpp"

#include <utility>

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {

// Every operator with the scalar s on either side yields Var<T> (all in
// unevaluated operands: a failure is a compile error here).
template <class T, class S, class V = Var<T>, class X = decltype(std::declval<const V&>()),
          class C = decltype(std::declval<S>())>
constexpr bool all_operators_compile() {
  return std::is_same_v<decltype(std::declval<X>() + std::declval<C>()), V> &&
         std::is_same_v<decltype(std::declval<C>() + std::declval<X>()), V> &&
         std::is_same_v<decltype(std::declval<X>() - std::declval<C>()), V> &&
         std::is_same_v<decltype(std::declval<C>() - std::declval<X>()), V> &&
         std::is_same_v<decltype(std::declval<X>() * std::declval<C>()), V> &&
         std::is_same_v<decltype(std::declval<C>() * std::declval<X>()), V> &&
         std::is_same_v<decltype(std::declval<X>() / std::declval<C>()), V> &&
         std::is_same_v<decltype(std::declval<C>() / std::declval<X>()), V>;
}

template <class T>
constexpr bool for_every_scalar_type() {
  return all_operators_compile<T, int>() && all_operators_compile<T, long>() &&
         all_operators_compile<T, unsigned>() && all_operators_compile<T, std::size_t>() &&
         all_operators_compile<T, float>() && all_operators_compile<T, double>() &&
         all_operators_compile<T, long double>() && all_operators_compile<T, const double&>();
}
static_assert(for_every_scalar_type<float>());
static_assert(for_every_scalar_type<double>());

// The ops whose scalar arguments take T from the Var alone.
template <class T, class X = decltype(std::declval<const Var<T>&>())>
constexpr bool scalar_arguments_convert() {
  return std::is_same_v<decltype(pow(std::declval<X>(), 2.0)), Var<T>> &&
         std::is_same_v<decltype(pow(std::declval<X>(), 2)), Var<T>> &&
         std::is_same_v<decltype(clamp(std::declval<X>(), -1, 0.5)), Var<T>> &&
         std::is_same_v<decltype(add_scalar(std::declval<X>(), 1)), Var<T>> &&
         std::is_same_v<decltype(mul_scalar(std::declval<X>(), 0.5)), Var<T>>;
}
static_assert(scalar_arguments_convert<float>());
static_assert(scalar_arguments_convert<double>());

// A model written once for any T, with its constants as plain literals.
template <class T>
Var<T> gated(const Var<T>& x, const Var<T>& w) {
  Var<T> z = sigmoid(x * w * 0.5 + 1);
  return (1 - z) * x + z * (2.0 / (w * w + 1.0f)) - x / 4 + (3u - z * 2L);
}

// The same function on plain numbers, for reference values.
double gated_ref(double x, double w) {
  const double z = 1 / (1 + std::exp(-(x * w * 0.5 + 1)));
  return (1 - z) * x + z * (2.0 / (w * w + 1.0)) - x / 4 + (3 - z * 2);
}

}  // namespace

TEMPLATE_TEST_CASE("scalar operators: values for float and double", "[ops][scalars]", float, double) {
  using T = TestType;
  Tape<T> tape;
  Var<T> x = tape.parameter(Tensor<T>{T(-1.5), T(0.25), T(2)});
  const double ref[3] = {-1.5, 0.25, 2};
  auto check = [&](const Var<T>& y, auto f) {
    for (std::size_t i = 0; i < 3; ++i) CHECK(double(y.value()(i)) == Approx(f(ref[i])).epsilon(1e-6));
  };
  check(x + 2, [](double v) { return v + 2; });
  check(2 + x, [](double v) { return 2 + v; });
  check(x - 0.5, [](double v) { return v - 0.5; });
  check(1 - x, [](double v) { return 1 - v; });
  check(x * 0.5f, [](double v) { return v * 0.5; });
  check(3L * x, [](double v) { return 3 * v; });
  check(x / 4u, [](double v) { return v / 4; });
  check(1.0 / x, [](double v) { return 1 / v; });
  check(1 - sigmoid(x), [](double v) { return 1 - 1 / (1 + std::exp(-v)); });
  // s - x is one record, as x + s is.
  const std::size_t before = tape.size();
  Var<T> y = 1 - x;
  CHECK(tape.size() == before + 1);
  (void)y;
}

TEMPLATE_TEST_CASE("scalar operators: gradients for float and double", "[ops][scalars]", float, double) {
  using T = TestType;
  Tape<T> tape;
  Var<T> x = tape.parameter(Tensor<T>{T(-1.5), T(0.25), T(2)});
  Var<T> w = tape.parameter(Tensor<T>{T(0.5), T(-1), T(1.5)});
  Var<T> y = gated(x, w);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(double(y.value()(i)) == Approx(gated_ref(double(x.value()(i)), double(w.value()(i)))).epsilon(1e-5));
  tape.backward(sum(y));
  // Central differences of the reference in double.
  const double h = 1e-6;
  for (std::size_t i = 0; i < 3; ++i) {
    const double xv = double(x.value()(i)), wv = double(w.value()(i));
    const double dx = (gated_ref(xv + h, wv) - gated_ref(xv - h, wv)) / (2 * h);
    const double dw = (gated_ref(xv, wv + h) - gated_ref(xv, wv - h)) / (2 * h);
    CHECK(double(x.grad()(i)) == Approx(dx).epsilon(1e-4));
    CHECK(double(w.grad()(i)) == Approx(dw).epsilon(1e-4));
  }
}

TEST_CASE("scalar operators: float64 gradcheck of each form", "[ops][scalars]") {
  for (std::uint64_t seed : {1, 2})
    for (const Shape& s : {Shape{5}, Shape{2, 3}}) {
      Tape<double> tape;
      Rng rng(seed);
      Var<double> a = rand_param(tape, s, rng, 0.5, 2);
      require_gradcheck(tape, {a}, [&] { return a + 2; });
      require_gradcheck(tape, {a}, [&] { return 2u + a; });
      require_gradcheck(tape, {a}, [&] { return a - 0.5f; });
      require_gradcheck(tape, {a}, [&] { return 1 - a; });
      require_gradcheck(tape, {a}, [&] { return a * 3L; });
      require_gradcheck(tape, {a}, [&] { return -0.5 * a; });
      require_gradcheck(tape, {a}, [&] { return a / 4; });
      require_gradcheck(tape, {a}, [&] { return 3 / a; });
      require_gradcheck(tape, {a}, [&] { return gated(a, a * a); });
    }
}

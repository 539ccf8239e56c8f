// The op scope (autograd/op.hpp): what it works out, what it keeps, and the
// check that a backward reads only the values its op saved.
#include <type_traits>

#include "check.hpp"

#include <tapegrad/autograd/op.hpp>

using namespace tg;

namespace {

// A handle type offers value() or not (C++17 detection).
template <class H, class = void>
struct has_value : std::false_type {};
template <class H>
struct has_value<H, std::void_t<decltype(std::declval<const H&>().value())>> : std::true_type {};

// An input handle has no value(): a backward cannot even name a value its op
// did not save. A saved one has.
static_assert(!has_value<GradRef<double>>::value);
static_assert(has_value<ValueRef<double>>::value);

// y = x * x with a backward that reads x's value, saved only when `save`:
// with save false, the planted bug this checks for.
Var<double> square_saving(const Var<double>& x, bool save) {
  OpScope<double> op("square_planted", {&x});
  Var<double> y = op.result(x.value() * x.value());
  op.backward(y, [x = op.save_if(save, x), y = op.output(y)] {
    x.accumulate(2.0 * y.grad() * x.value());
  });
  return y;
}

}  // namespace

TEST_CASE("a backward that reads a value its op did not save fails naming the op", "[op_scope]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{0.5, -1.5});
  Var<double> good = square_saving(a * 1.0, true);
  tape.backward(sum(good));
  REQUIRE(a.grad()(1) == -3.0);
  tape.clear();
  a.zero_grad();

  Var<double> bad = square_saving(a * 1.0, false);
  REQUIRE_THROWS_WITH(tape.backward(sum(bad)),
                      Catch::Contains("op 'square_planted'") && Catch::Contains("did not save"));
}

TEST_CASE("an op scope works out the tape and requires-grad, and names the op in errors", "[op_scope]") {
  Tape<double> tape, other;
  Var<double> p = tape.parameter(Tensor<double>{1.0});
  Var<double> c = tape.constant(Tensor<double>{2.0});
  {
    OpScope<double> op("both", {&p, &c});
    REQUIRE(&op.tape() == &tape);
    REQUIRE(op.requires_grad());
    REQUIRE(op.result(Tensor<double>{3.0}).requires_grad());
  }
  {
    OpScope<double> op("constant", {&c});
    REQUIRE_FALSE(op.requires_grad());
  }
  {
    auto guard = tape.no_grad();
    OpScope<double> op("under no_grad", {&p});
    REQUIRE_FALSE(op.requires_grad());
    REQUIRE_FALSE(op.result(Tensor<double>{3.0}).requires_grad());
  }
  Var<double> empty, elsewhere = other.parameter(Tensor<double>{1.0});
  REQUIRE_THROWS_WITH(OpScope<double>("empty_op", {&p, &empty}),
                      Catch::Contains("empty_op") && Catch::Contains("empty Var"));
  REQUIRE_THROWS_WITH(OpScope<double>("mixed_op", {&p, &elsewhere}),
                      Catch::Contains("mixed_op") && Catch::Contains("different tapes"));
}

TEST_CASE("what an op does not save is released with its last Var", "[op_scope][memory]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{0.1, 0.2, 0.3});
  NodePtr<double> tanh_in, tanh_out, sq_in;
  Var<double> out;
  {
    Var<double> u = a * 2.0, v = a * 3.0;
    tanh_in = u.node();
    sq_in = v.node();
    Var<double> t = tanh(u);  // reads only its result
    tanh_out = t.node();
    out = t + square(v);      // square reads its input; add reads nothing
  }
  REQUIRE(tanh_in->value_released);
  REQUIRE_FALSE(tanh_out->value_released);
  REQUIRE_FALSE(sq_in->value_released);
  tape.backward(sum(out));
  const Tensor<double> t = xt::tanh(a.value() * 2.0);
  REQUIRE(xt::allclose(a.grad(), 2.0 * (1.0 - t * t) + 2.0 * 9.0 * a.value()));
}

// The activations, softmax among them, from ops/elementwise.hpp alone.
#include <catch2/catch.hpp>

#include <tapegrad/autograd/ops/elementwise.hpp>

TEST_CASE("softmax is found with the activations in ops/elementwise.hpp", "[ops][headers]") {
  tg::Tape<float> tape;
  tg::Var<float> x = tape.parameter(tg::Tensor<float>{1.0f, 2.0f});
  tg::Var<float> p = tg::softmax(tg::gelu(x) * 0 + x);
  CHECK(p.value()(1) == Approx(1 / (1 + std::exp(-1.0))));
  CHECK(tg::log_softmax(x).value()(0) == Approx(std::log(p.value()(0))));
}

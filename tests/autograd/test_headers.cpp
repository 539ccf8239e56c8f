// softmax and log_softmax are declared with the activations in
// ops/elementwise.hpp, and still found through ops/loss.hpp, where they used
// to be declared: this file includes the latter only (and the reductions).
#include <catch2/catch.hpp>

#include <tapegrad/autograd/ops/loss.hpp>
#include <tapegrad/autograd/ops/reduce.hpp>

TEST_CASE("softmax is found through ops/loss.hpp alone", "[ops][headers]") {
  tg::Tape<double> tape;
  tg::Var<double> x = tape.parameter(tg::Tensor<double>{1.0, 2.0});
  tg::Var<double> p = tg::softmax(x);
  tg::Var<double> lp = tg::log_softmax(x);
  tg::Var<double> mp = tg::masked_softmax(x, tg::Tensor<double>{1.0, 0.0});
  CHECK(p.value()(1) == Approx(1 / (1 + std::exp(-1.0))));
  CHECK(lp.value()(0) == Approx(std::log(p.value()(0))));
  CHECK(mp.value()(0) == 1.0);
}

// A recurrent cell written against the public API, as docs/layers.md walks
// through: the minimal gated unit (Zhou et al., 2016), a GRU variant with a
// single gate. Plugged into Recurrent, it gets stacking, both directions and
// masking for free, and its gradients are checked like the built-in cells'.
#include "../autograd/check.hpp"
#include <tapegrad/layers/init.hpp>
#include <tapegrad/layers/recurrent.hpp>

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {

//   f  = sigmoid(x W_f + h U_f + b_f)
//   n  = tanh(x W_n + (f * h) U_n + b_n)
//   h' = (1 - f) * h + f * n
//   W_ih = [W_f W_n] (in, 2H)   b = [b_f b_n] (2H)   U_f, U_n (H, H)
template <class T>
class MGUCell : public Cell<T> {
 public:
  MGUCell(Tape<T>& tape, std::size_t in, std::size_t hidden, Rng& rng) {
    weight_ih = tape.parameter(init::fan_in_uniform<T>(Shape{in, 2 * hidden}, hidden, rng));
    bias = tape.parameter(init::fan_in_uniform<T>(Shape{2 * hidden}, hidden, rng));
    weight_f = tape.parameter(init::orthogonal<T>(hidden, hidden, rng));
    weight_n = tape.parameter(init::orthogonal<T>(hidden, hidden, rng));
    this->register_parameter("weight_ih", weight_ih);
    this->register_parameter("bias", bias);
    this->register_parameter("weight_f", weight_f);
    this->register_parameter("weight_n", weight_n);
  }
  std::size_t hidden_size() const override { return weight_f.shape()[0]; }

  // The input part of both gates for every step at once.
  Var<T> project(const Var<T>& x) const override { return matmul(x, weight_ih) + bias; }

  State<T> step(const Var<T>& x_proj, const State<T>& prev) const override {
    std::vector<Var<T>> xp = split(x_proj, 1, std::size_t(2));
    Var<T> f = sigmoid(matmul_add(xp[0], prev.h, weight_f));
    Var<T> n = tanh(matmul_add(xp[1], f * prev.h, weight_n));
    return {prev.h + f * (n - prev.h), {}};
  }

  Var<T> weight_ih, bias, weight_f, weight_n;
};

CellFactory<double> mgu = [](Tape<double>& tape, std::size_t in, std::size_t hidden, Rng& rng) {
  return std::make_unique<MGUCell<double>>(tape, in, hidden, rng);
};

}  // namespace

TEST_CASE("a user-written cell: gradcheck, stacked, bidirectional, masked", "[layers][custom]") {
  Tape<double> tape;
  Rng rng(1);
  const auto o = RecurrentOptions(3, 4).num_layers(2).bidirectional(true);
  Recurrent<double> layer(tape, o, rng, mgu);
  REQUIRE(layer.named_parameters().size() == 4 * 4);
  REQUIRE(layer.named_parameters()[2].name == "l0.fwd.weight_f");
  Var<double> x = rand_param(tape, {6, 2, 3}, rng);
  Tensor<double> mask = sequence_mask<double>({6, 4}, 6);
  std::vector<Var<double>> inputs = layer.parameters();
  inputs.push_back(x);
  require_gradcheck(tape, inputs, [&] {
    auto out = layer.forward(RecurrentInput(x).mask(mask));
    return concat<double>({reshape(out.output, Shape{6 * 2 * 8}), reshape(out.last(), Shape{16})}, 0);
  });
}

TEST_CASE("a cell factory of the wrong size is refused", "[layers][custom]") {
  Tape<double> tape;
  Rng rng(2);
  const RecurrentOptions o(3, 4);
  CellFactory<double> wrong = [](Tape<double>& t, std::size_t in, std::size_t, Rng& r) {
    return std::make_unique<MGUCell<double>>(t, in, 5, r);
  };
  REQUIRE_THROWS_WITH(Recurrent<double>(tape, o, rng, wrong), Catch::Contains("hidden size 4"));
}

// The float32 path against the float64 one. Gradchecks run in double, whose
// products go to OpenBLAS; float products go to our AVX-512 kernel where the
// CPU has it. Here the same layers, with the same weights and inputs, run in
// both types: outputs and every gradient must agree to float precision.
// Sizes are odd on purpose (batch 7, hidden 20: four gates are 80 columns,
// a 64-column tile and a 16-column tail).
#include <catch2/catch.hpp>

#include <cmath>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/layers/recurrent.hpp>

using namespace tg;

namespace {

constexpr std::size_t kSteps = 12, kBatch = 7, kIn = 9, kHidden = 20;

template <class T>
Tensor<T> cast(const Tensor<double>& x) {
  Tensor<T> out = Tensor<T>::from_shape(x.shape());
  std::copy(x.begin(), x.end(), out.begin());
  return out;
}

// Loss = sum(output * weights) + sum of the final states: every output and
// state element gets its own gradient.
template <class T>
struct Run {
  Tensor<T> output;
  std::vector<Tensor<T>> grads;  // parameters in order, then the input
};

template <class T>
Run<T> run(const RecurrentOptions& o, const std::vector<Tensor<double>>& params,
           const Tensor<double>& x, const Tensor<double>& weights) {
  Tape<T> tape;
  Rng rng(1);
  Recurrent<T> layer(tape, o, rng);
  std::vector<Var<T>> ps = layer.parameters();
  REQUIRE(ps.size() == params.size());
  for (std::size_t i = 0; i < ps.size(); ++i) ps[i].value() = cast<T>(params[i]);
  Var<T> input = tape.parameter(cast<T>(x));
  RecurrentOutput<T> out = layer.forward(input);
  Var<T> loss = sum(out.output * tape.constant(cast<T>(weights)));
  for (const auto& s : out.final) loss = loss + sum(s.h);
  tape.backward(loss);
  Run<T> r{out.output.value(), {}};
  for (auto& p : ps) r.grads.push_back(p.grad());
  r.grads.push_back(input.grad());
  return r;
}

// Worst |float - double| / (scale of the double tensor).
double worst(const Tensor<float>& f, const Tensor<double>& d) {
  REQUIRE(f.size() == d.size());
  double scale = 1e-12, err = 0;
  for (std::size_t i = 0; i < d.size(); ++i) scale = std::max(scale, std::abs(d.data()[i]));
  for (std::size_t i = 0; i < d.size(); ++i)
    err = std::max(err, std::abs(double(f.data()[i]) - d.data()[i]));
  return err / scale;
}

}  // namespace

TEST_CASE("float32 layers agree with float64 (outputs and every gradient)", "[layers][float]") {
  for (CellType cell : {CellType::RNN, CellType::LSTM, CellType::GRU})
    for (bool deep_and_bi : {false, true}) {
      const auto o = RecurrentOptions(kIn, kHidden)
                         .cell(cell)
                         .init(RecurrentInit::Torch)
                         .num_layers(deep_and_bi ? 2 : 1)
                         .bidirectional(deep_and_bi);
      Tape<double> init_tape;
      Rng rng(3);
      Recurrent<double> reference(init_tape, o, rng);
      std::vector<Tensor<double>> params;
      for (auto& p : reference.parameters()) params.push_back(p.value());
      const Tensor<double> x = uniform<double>(Shape{kSteps, kBatch, kIn}, -1, 1, rng);
      const Tensor<double> w =
          uniform<double>(Shape{kSteps, kBatch, kHidden * reference.directions()}, -1, 1, rng);

      const Run<double> d = run<double>(o, params, x, w);
      const Run<float> f = run<float>(o, params, x, w);
      INFO("cell " << int(cell) << (deep_and_bi ? ", 2 layers, bidirectional" : ", 1 layer"));
      REQUIRE(worst(f.output, d.output) < 1e-5);
      REQUIRE(f.grads.size() == d.grads.size());
      for (std::size_t i = 0; i < d.grads.size(); ++i) {
        INFO("gradient " << i << " of " << d.grads.size() << " (last: the input)");
        REQUIRE(worst(f.grads[i], d.grads[i]) < 1e-4);
      }
    }
}

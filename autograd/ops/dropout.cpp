#include <tapegrad/autograd/ops/dropout.hpp>

#include <tapegrad/autograd/op.hpp>

namespace tg {

template <class T>
Var<T> dropout(const Var<T>& a, scalar_t<T> p, bool training, Rng& rng) {
  OpScope<T> op("dropout", {&a});
  if (!(p >= 0 && p < 1))
    throw Error("dropout: probability " + std::to_string(p) + " is not in [0, 1)");
  if (!training || p == 0) return a;
  // The scaled mask is kept: the backward is one multiply.
  Tensor<T> mask = Tensor<T>::from_shape(a.shape());
  std::bernoulli_distribution keep(1.0 - static_cast<double>(p));
  const T scale = T(1) / (T(1) - p);
  for (auto& m : mask) m = keep(rng) ? scale : T(0);
  Var<T> y = op.result(a.value() * mask);
  op.backward(y, [a = op.input(a), y = op.output(y), mask = std::move(mask)] {
    a.accumulate(y.grad() * mask);
  });
  return y;
}

template Var<float> dropout(const Var<float>&, float, bool, Rng&);
template Var<double> dropout(const Var<double>&, double, bool, Rng&);

}  // namespace tg

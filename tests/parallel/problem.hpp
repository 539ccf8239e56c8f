// The data-parallel tests' problem: 21 sequences of 6 steps of 3 inputs, a
// recurrent layer (hidden 5) whose last state a Linear layer maps to 2
// targets, trained on the mean squared error. Global batches of 7 split over
// 2 ranks are shares of 4 and 3: the weighting by share size matters.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <xtensor/xview.hpp>

#include <tapegrad/datasets/sampler.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/train/trainer.hpp>

namespace tg::test {

constexpr std::size_t kSteps = 6, kInputs = 3, kItems = 21, kBatch = 7, kHidden = 5;

template <class T>
std::vector<Var<T>> vars_of(const std::vector<NamedParameter<T>>& params) {
  std::vector<Var<T>> out;
  for (auto& p : params) out.push_back(p.var);
  return out;
}

// Every parameter's gradient (`grads`) or value, flattened in order.
template <class T>
std::vector<T> flat(const std::vector<NamedParameter<T>>& params, bool grads) {
  std::vector<T> out;
  for (auto& p : params) {
    const Tensor<T>& t = grads ? p.var.grad() : p.var.value();
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

template <class T>
struct Problem {
  explicit Problem(std::size_t hidden = kHidden)
      : rnn(tape, RecurrentOptions(kInputs, hidden).cell(CellType::RNN).return_sequences(false),
            init),
        head(tape, hidden, 2, init) {}

  Tape<T> tape;
  Rng init{7};
  Recurrent<T> rnn;
  Linear<T> head;
  Adam<T> adam{params(), T(0.02)};
  Rng data_rng{11};  // the same data on every rank
  Tensor<T> x = uniform<T>({kSteps, kItems, kInputs}, T(-1), T(1), data_rng);
  Tensor<T> y = uniform<T>({kItems, 2}, T(-1), T(1), data_rng);
  data::EpochSampler sampler{kItems, kBatch, 3};

  std::vector<NamedParameter<T>> named() const {
    std::vector<NamedParameter<T>> out;
    for (auto& q : rnn.named_parameters("rnn.")) out.push_back(q);
    for (auto& q : head.named_parameters("head.")) out.push_back(q);
    return out;
  }
  std::vector<Var<T>> params() const { return vars_of(named()); }

  // The mean loss over `items`.
  Var<T> loss(const std::vector<std::size_t>& items) {
    Tensor<T> xb = Tensor<T>::from_shape({kSteps, items.size(), kInputs});
    Tensor<T> yb = Tensor<T>::from_shape({items.size(), 2});
    for (std::size_t b = 0; b < items.size(); ++b) {
      xt::view(xb, xt::all(), b, xt::all()) = xt::view(x, xt::all(), items[b], xt::all());
      xt::view(yb, b, xt::all()) = xt::view(y, items[b], xt::all());
    }
    return mse(head(rnn.forward(tape.constant(std::move(xb))).last()), tape.constant(std::move(yb)));
  }

  // `steps` steps of batches of kBatch from the sampler, silent.
  train::Options options(std::size_t steps) const {
    train::Options o;
    o.batches_per_epoch = sampler.batches_per_epoch();
    o.steps = steps;
    o.progress = false;
    o.log = nullptr;
    o.meta = {{"app", "test"}};
    return o;
  }

  std::vector<T> grads() const { return flat(named(), true); }
  std::vector<T> weights() const { return flat(named(), false); }
};

template <class T>
double max_abs_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double d = a.size() == b.size() ? 0.0 : 1e300;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

}  // namespace tg::test

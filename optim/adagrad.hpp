// Adagrad (Duchi et al. 2011), exactly as torch.optim.Adagrad (lr_decay 0,
// initial_accumulator_value 0):
//
//   g = g + wd p
//   s = s + g^2
//   p = p - lr g / (sqrt(s) + eps)
#pragma once

#include <tapegrad/optim/optimizer.hpp>

namespace tg {

template <class T>
class Adagrad : public Optimizer<T> {
 public:
  // Throws for lr, eps or weight_decay < 0.
  Adagrad(std::vector<Var<T>> params, T lr = T(1e-2), T eps = T(1e-10), T weight_decay = T(0));

  void step() override;
  // "adagrad.step", "adagrad.sum.<i>".
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;

 private:
  T eps_, weight_decay_;
  std::vector<Tensor<T>> sum_;
};

extern template class Adagrad<float>;
extern template class Adagrad<double>;

}  // namespace tg

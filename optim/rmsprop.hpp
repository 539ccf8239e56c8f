// RMSprop (Tieleman & Hinton 2012), exactly as torch.optim.RMSprop
// (centered off):
//
//   g = g + wd p
//   s = alpha s + (1 - alpha) g^2
//   u = g / (sqrt(s) + eps)
//   b = mu b + u,  p = p - lr b       (momentum mu > 0; b starts at 0)
//   p = p - lr u                      (no momentum)
#pragma once

#include <tapegrad/optim/optimizer.hpp>

namespace tg {

template <class T>
class RMSprop : public Optimizer<T> {
 public:
  // Throws for lr, eps, momentum or weight_decay < 0, or alpha outside [0, 1].
  RMSprop(std::vector<Var<T>> params, T lr = T(1e-2), T alpha = T(0.99), T eps = T(1e-8),
          T momentum = T(0), T weight_decay = T(0));

  void step() override;
  // "rmsprop.step", "rmsprop.square_avg.<i>", and "rmsprop.momentum.<i>"
  // when momentum > 0.
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;

 private:
  T alpha_, eps_, momentum_, weight_decay_;
  std::vector<Tensor<T>> sq_, buf_;  // buf_ empty without momentum
};

extern template class RMSprop<float>;
extern template class RMSprop<double>;

}  // namespace tg

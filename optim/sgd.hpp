// Stochastic gradient descent with optional momentum, Nesterov momentum and
// L2 weight decay, exactly as torch.optim.SGD (dampening 0):
//
//   d = g + wd p                      (weight decay)
//   b = mu b + d                      (momentum; b starts at 0, so b1 = d)
//   d = nesterov ? d + mu b : b       (only when mu > 0)
//   p = p - lr d
#pragma once

#include <tapegrad/optim/optimizer.hpp>

namespace tg {

template <class T>
class SGD : public Optimizer<T> {
 public:
  // Throws for lr, momentum or weight_decay < 0, or nesterov without momentum.
  SGD(std::vector<Var<T>> params, T lr, T momentum = T(0), bool nesterov = false,
      T weight_decay = T(0));

  void step() override;
  // "sgd.step", and "sgd.momentum.<i>" when momentum > 0.
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;

  T momentum() const { return momentum_; }
  bool nesterov() const { return nesterov_; }
  T weight_decay() const { return weight_decay_; }

 private:
  T momentum_, weight_decay_;
  bool nesterov_;
  std::vector<Tensor<T>> buf_;  // momentum buffers; empty without momentum
};

extern template class SGD<float>;
extern template class SGD<double>;

}  // namespace tg

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

//   tg::SGD<float> opt(params, tg::SGDOptions(0.1).momentum(0.9).nesterov(true));
//
// lr has no default (as libtorch's SGDOptions). The setters throw tg::Error
// naming the value for lr, momentum or weight_decay < 0; SGD's constructor
// throws for nesterov without momentum.
class SGDOptions {
 public:
  explicit SGDOptions(double lr) { this->lr(lr); }
  double lr() const { return lr_; }
  SGDOptions& lr(double v) {
    lr_ = check_option(v >= 0, "sgd", "lr", v, "must be >= 0");
    return *this;
  }
  double momentum() const { return momentum_; }
  SGDOptions& momentum(double v) {
    momentum_ = check_option(v >= 0, "sgd", "momentum", v, "must be >= 0");
    return *this;
  }
  bool nesterov() const { return nesterov_; }
  SGDOptions& nesterov(bool v) {
    nesterov_ = v;
    return *this;
  }
  double weight_decay() const { return weight_decay_; }
  SGDOptions& weight_decay(double v) {
    weight_decay_ = check_option(v >= 0, "sgd", "weight_decay", v, "must be >= 0");
    return *this;
  }

 private:
  double lr_ = 0, momentum_ = 0, weight_decay_ = 0;
  bool nesterov_ = false;
};

template <class T>
class SGD : public Optimizer<T> {
 public:
  // Plain SGD; throws for lr < 0.
  SGD(std::vector<Var<T>> params, T lr) : SGD(std::move(params), SGDOptions(double(lr))) {}
  SGD(std::vector<Var<T>> params, const SGDOptions& options);

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

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

//   tg::RMSprop<float> opt(params, tg::RMSpropOptions(1e-2).alpha(0.9).momentum(0.9));
//
// The setters throw tg::Error naming the value for lr, eps, momentum or
// weight_decay < 0, or alpha outside [0, 1].
class RMSpropOptions {
 public:
  explicit RMSpropOptions(double lr = 1e-2) { this->lr(lr); }
  double lr() const { return lr_; }
  RMSpropOptions& lr(double v) {
    lr_ = check_option(v >= 0, "rmsprop", "lr", v, "must be >= 0");
    return *this;
  }
  double alpha() const { return alpha_; }
  RMSpropOptions& alpha(double v) {
    alpha_ = check_option(v >= 0 && v <= 1, "rmsprop", "alpha", v, "is not in [0, 1]");
    return *this;
  }
  double eps() const { return eps_; }
  RMSpropOptions& eps(double v) {
    eps_ = check_option(v >= 0, "rmsprop", "eps", v, "must be >= 0");
    return *this;
  }
  double momentum() const { return momentum_; }
  RMSpropOptions& momentum(double v) {
    momentum_ = check_option(v >= 0, "rmsprop", "momentum", v, "must be >= 0");
    return *this;
  }
  double weight_decay() const { return weight_decay_; }
  RMSpropOptions& weight_decay(double v) {
    weight_decay_ = check_option(v >= 0, "rmsprop", "weight_decay", v, "must be >= 0");
    return *this;
  }

 private:
  double lr_ = 1e-2, alpha_ = 0.99, eps_ = 1e-8, momentum_ = 0, weight_decay_ = 0;
};

template <class T>
class RMSprop : public Optimizer<T> {
 public:
  // Throws for lr < 0; the other options are RMSpropOptions' defaults.
  RMSprop(std::vector<Var<T>> params, T lr = T(1e-2))
      : RMSprop(std::move(params), RMSpropOptions(double(lr))) {}
  RMSprop(std::vector<Var<T>> params, const RMSpropOptions& options);

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

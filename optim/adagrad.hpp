// Adagrad (Duchi et al. 2011), exactly as torch.optim.Adagrad (lr_decay 0,
// initial_accumulator_value 0):
//
//   g = g + wd p
//   s = s + g^2
//   p = p - lr g / (sqrt(s) + eps)
#pragma once

#include <tapegrad/optim/optimizer.hpp>

namespace tg {

//   tg::Adagrad<float> opt(params, tg::AdagradOptions(1e-2).weight_decay(1e-4));
//
// The setters throw tg::Error naming the value for lr, eps or weight_decay < 0.
class AdagradOptions {
 public:
  explicit AdagradOptions(double lr = 1e-2) { this->lr(lr); }
  double lr() const { return lr_; }
  AdagradOptions& lr(double v) {
    lr_ = check_option(v >= 0, "adagrad", "lr", v, "must be >= 0");
    return *this;
  }
  double eps() const { return eps_; }
  AdagradOptions& eps(double v) {
    eps_ = check_option(v >= 0, "adagrad", "eps", v, "must be >= 0");
    return *this;
  }
  double weight_decay() const { return weight_decay_; }
  AdagradOptions& weight_decay(double v) {
    weight_decay_ = check_option(v >= 0, "adagrad", "weight_decay", v, "must be >= 0");
    return *this;
  }

 private:
  double lr_ = 1e-2, eps_ = 1e-10, weight_decay_ = 0;
};

template <class T>
class Adagrad : public Optimizer<T> {
 public:
  // Throws for lr < 0; the other options are AdagradOptions' defaults.
  Adagrad(std::vector<Var<T>> params, T lr = T(1e-2))
      : Adagrad(std::move(params), AdagradOptions(double(lr))) {}
  Adagrad(std::vector<Var<T>> params, const AdagradOptions& options);

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

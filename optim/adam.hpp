// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), exactly as
// torch.optim.Adam / AdamW (amsgrad off). With t the parameter's own step
// count (a skipped parameter does not advance it, as in PyTorch):
//
//   g = g + wd p                      (Adam only: L2 folded into the gradient)
//   p = p (1 - lr wd)                 (AdamW only: decoupled weight decay)
//   m = b1 m + (1 - b1) g
//   v = b2 v + (1 - b2) g^2
//   p = p - lr/(1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//
// i.e. p -= lr m_hat / (sqrt(v_hat) + eps). Each parameter is updated in one
// fused, vectorised pass over p, g, m, v: a dense 20002x128 embedding costs
// one sweep of memory per step.
#pragma once

#include <tapegrad/optim/optimizer.hpp>

namespace tg {

// The options of Adam (AdamOptions) and AdamW (AdamWOptions), alike but for
// the default weight_decay: 0 and 1e-2, as PyTorch's.
//
//   tg::Adam<float> opt(params, tg::AdamOptions().lr(1e-3).betas(0.9, 0.999).weight_decay(1e-4));
//
// The setters throw tg::Error naming the optimizer and the value for lr, eps
// or weight_decay < 0, or a beta outside [0, 1).
template <class Self>
class AdamOptionsBase {
 public:
  double lr() const { return lr_; }
  Self& lr(double v) {
    lr_ = check_option(v >= 0, Self::optimizer, "lr", v, "must be >= 0");
    return self();
  }
  std::pair<double, double> betas() const { return {beta1_, beta2_}; }
  Self& betas(double beta1, double beta2) {
    const char* rule = "is not in [0, 1)";
    beta1_ = check_option(beta1 >= 0 && beta1 < 1, Self::optimizer, "beta1", beta1, rule);
    beta2_ = check_option(beta2 >= 0 && beta2 < 1, Self::optimizer, "beta2", beta2, rule);
    return self();
  }
  double eps() const { return eps_; }
  Self& eps(double v) {
    eps_ = check_option(v >= 0, Self::optimizer, "eps", v, "must be >= 0");
    return self();
  }
  double weight_decay() const { return weight_decay_; }
  Self& weight_decay(double v) {
    weight_decay_ = check_option(v >= 0, Self::optimizer, "weight_decay", v, "must be >= 0");
    return self();
  }

 protected:
  AdamOptionsBase(double lr, double weight_decay)
      : lr_(check_option(lr >= 0, Self::optimizer, "lr", lr, "must be >= 0")),
        weight_decay_(weight_decay) {}

 private:
  Self& self() { return static_cast<Self&>(*this); }
  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_;
};

class AdamOptions : public AdamOptionsBase<AdamOptions> {
 public:
  static constexpr const char* optimizer = "adam";
  explicit AdamOptions(double lr = 1e-3) : AdamOptionsBase(lr, 0) {}
};

class AdamWOptions : public AdamOptionsBase<AdamWOptions> {
 public:
  static constexpr const char* optimizer = "adamw";
  explicit AdamWOptions(double lr = 1e-3) : AdamOptionsBase(lr, 1e-2) {}
};

template <class T>
class Adam : public Optimizer<T> {
 public:
  // Throws for lr < 0; the other options are AdamOptions' defaults.
  Adam(std::vector<Var<T>> params, T lr = T(1e-3))
      : Adam(std::move(params), AdamOptions(double(lr))) {}
  Adam(std::vector<Var<T>> params, const AdamOptions& o)
      : Adam(std::move(params), T(o.lr()), T(o.betas().first), T(o.betas().second), T(o.eps()),
             T(o.weight_decay()), false) {}

  void step() override;
  // "<name>.step", "<name>.t" (each parameter's step count, shape (n,)),
  // "<name>.m.<i>", "<name>.v.<i>"; name is "adam" or "adamw".
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;

  T beta1() const { return beta1_; }
  T beta2() const { return beta2_; }
  T eps() const { return eps_; }
  T weight_decay() const { return weight_decay_; }

 protected:
  // The options already checked (AdamOptionsBase).
  Adam(std::vector<Var<T>> params, T lr, T beta1, T beta2, T eps, T weight_decay,
       bool decoupled);

 private:
  T beta1_, beta2_, eps_, weight_decay_;
  bool decoupled_;
  std::vector<Tensor<T>> m_, v_;
  Tensor<T> t_;  // per-parameter step counts
};

// Adam with decoupled weight decay; PyTorch's default weight_decay is 1e-2.
template <class T>
class AdamW : public Adam<T> {
 public:
  AdamW(std::vector<Var<T>> params, T lr = T(1e-3))
      : AdamW(std::move(params), AdamWOptions(double(lr))) {}
  AdamW(std::vector<Var<T>> params, const AdamWOptions& o)
      : Adam<T>(std::move(params), T(o.lr()), T(o.betas().first), T(o.betas().second),
                T(o.eps()), T(o.weight_decay()), true) {}
};

extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace tg

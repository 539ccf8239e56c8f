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

template <class T>
class Adam : public Optimizer<T> {
 public:
  // Throws for lr, eps or weight_decay < 0, or betas outside [0, 1).
  Adam(std::vector<Var<T>> params, T lr = T(1e-3), T beta1 = T(0.9), T beta2 = T(0.999),
       T eps = T(1e-8), T weight_decay = T(0));

  void step() override;
  // "<name>.step", "<name>.t" (each parameter's step count, shape (n,)),
  // "<name>.m.<i>", "<name>.v.<i>"; name is "adam" or "adamw".
  std::vector<std::pair<std::string, Tensor<T>*>> state() override;

  T beta1() const { return beta1_; }
  T beta2() const { return beta2_; }
  T eps() const { return eps_; }
  T weight_decay() const { return weight_decay_; }

 protected:
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
  AdamW(std::vector<Var<T>> params, T lr = T(1e-3), T beta1 = T(0.9), T beta2 = T(0.999),
        T eps = T(1e-8), T weight_decay = T(1e-2))
      : Adam<T>(std::move(params), lr, beta1, beta2, eps, weight_decay, true) {}
};

extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace tg

#include <tapegrad/optim/adagrad.hpp>

#include <cmath>

namespace tg {

template <class T>
Adagrad<T>::Adagrad(std::vector<Var<T>> params, const AdagradOptions& o)
    : Optimizer<T>(std::move(params), T(o.lr()), "adagrad"),
      eps_(T(o.eps())), weight_decay_(T(o.weight_decay())) {
  sum_ = this->zeros_like_params();
}

template <class T>
void Adagrad<T>::step() {
  const T lr = this->lr_, eps = eps_, wd = weight_decay_;
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    Var<T>& p = this->params_[i];
    if (!p.has_grad()) continue;
    this->check_sizes(i, {&sum_[i]});
    const std::size_t n = p.size();
    T* __restrict w = p.value().data();
    const T* __restrict g = p.grad().data();
    T* __restrict s = sum_[i].data();
    for (std::size_t k = 0; k < n; ++k) {
      const T gk = g[k] + wd * w[k];
      s[k] += gk * gk;
      w[k] -= lr * (gk / (std::sqrt(s[k]) + eps));
    }
  }
  this->count_step();
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> Adagrad<T>::state() {
  auto s = Optimizer<T>::state();
  this->append_state(s, "adagrad.sum", sum_);
  return s;
}

template class Adagrad<float>;
template class Adagrad<double>;

}  // namespace tg

#include <tapegrad/optim/rmsprop.hpp>

#include <cmath>

namespace tg {

template <class T>
RMSprop<T>::RMSprop(std::vector<Var<T>> params, const RMSpropOptions& o)
    : Optimizer<T>(std::move(params), T(o.lr()), "rmsprop"),
      alpha_(T(o.alpha())), eps_(T(o.eps())), momentum_(T(o.momentum())),
      weight_decay_(T(o.weight_decay())) {
  sq_ = this->zeros_like_params();
  if (momentum_ > T(0)) buf_ = this->zeros_like_params();
}

template <class T>
void RMSprop<T>::step() {
  const T lr = this->lr_, a = alpha_, eps = eps_, mu = momentum_, wd = weight_decay_;
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    Var<T>& p = this->params_[i];
    if (!p.has_grad()) continue;
    const std::size_t n = p.size();
    T* __restrict w = p.value().data();
    const T* __restrict g = p.grad().data();
    T* __restrict s = sq_[i].data();
    if (mu == T(0)) {
      this->check_sizes(i, {&sq_[i]});
      for (std::size_t k = 0; k < n; ++k) {
        const T gk = g[k] + wd * w[k];
        s[k] = a * s[k] + (T(1) - a) * gk * gk;
        w[k] -= lr * (gk / (std::sqrt(s[k]) + eps));
      }
      continue;
    }
    this->check_sizes(i, {&sq_[i], &buf_[i]});
    T* __restrict b = buf_[i].data();
    for (std::size_t k = 0; k < n; ++k) {
      const T gk = g[k] + wd * w[k];
      s[k] = a * s[k] + (T(1) - a) * gk * gk;
      b[k] = mu * b[k] + gk / (std::sqrt(s[k]) + eps);
      w[k] -= lr * b[k];
    }
  }
  this->count_step();
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> RMSprop<T>::state() {
  auto s = Optimizer<T>::state();
  this->append_state(s, "rmsprop.square_avg", sq_);
  this->append_state(s, "rmsprop.momentum", buf_);
  return s;
}

template class RMSprop<float>;
template class RMSprop<double>;

}  // namespace tg

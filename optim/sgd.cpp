#include <tapegrad/optim/sgd.hpp>

namespace tg {

template <class T>
SGD<T>::SGD(std::vector<Var<T>> params, const SGDOptions& o)
    : Optimizer<T>(std::move(params), T(o.lr()), "sgd"),
      momentum_(T(o.momentum())), weight_decay_(T(o.weight_decay())), nesterov_(o.nesterov()) {
  if (nesterov_ && momentum_ == T(0)) throw Error("sgd: nesterov needs momentum > 0");
  if (momentum_ > T(0)) buf_ = this->zeros_like_params();
}

template <class T>
void SGD<T>::step() {
  const T lr = this->lr_, mu = momentum_, wd = weight_decay_;
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    Var<T>& p = this->params_[i];
    if (!p.has_grad()) continue;
    const std::size_t n = p.size();
    T* __restrict w = p.value().data();
    const T* __restrict g = p.grad().data();
    if (mu == T(0)) {
      this->check_sizes(i, {});
      for (std::size_t k = 0; k < n; ++k) w[k] -= lr * (g[k] + wd * w[k]);
      continue;
    }
    this->check_sizes(i, {&buf_[i]});
    // PyTorch copies d into the buffer on its first step; with dampening 0,
    // mu * 0 + d is that same d, so a zero-initialised buffer needs no flag.
    T* __restrict b = buf_[i].data();
    if (nesterov_) {
      for (std::size_t k = 0; k < n; ++k) {
        const T d = g[k] + wd * w[k];
        b[k] = mu * b[k] + d;
        w[k] -= lr * (d + mu * b[k]);
      }
    } else {
      for (std::size_t k = 0; k < n; ++k) {
        b[k] = mu * b[k] + (g[k] + wd * w[k]);
        w[k] -= lr * b[k];
      }
    }
  }
  this->count_step();
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> SGD<T>::state() {
  auto s = Optimizer<T>::state();
  this->append_state(s, "sgd.momentum", buf_);
  return s;
}

template class SGD<float>;
template class SGD<double>;

}  // namespace tg

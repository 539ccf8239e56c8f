#include <tapegrad/optim/adam.hpp>

#include <cmath>
#include <utility>

namespace tg {
namespace {

// One Adam update of elements [0, n). Gradient-free rows of an embedding
// (Zero) run the same arithmetic on a literal 0, the value their gradient
// holds, without reading it: the result is the same, bit for bit.
template <class T, bool Zero>
void adam_update(T* __restrict w, const T* __restrict g, T* __restrict m, T* __restrict v,
                 std::size_t n, T b1, T b2, T eps, T l2, T shrink, T step_size, T inv_sqrt_bc2) {
  for (std::size_t k = 0; k < n; ++k) {
    const T gk = (Zero ? T(0) : g[k]) + l2 * w[k];
    m[k] = b1 * m[k] + (T(1) - b1) * gk;
    v[k] = b2 * v[k] + (T(1) - b2) * gk * gk;
    w[k] = w[k] * shrink - step_size * m[k] / (std::sqrt(v[k]) * inv_sqrt_bc2 + eps);
  }
}

}  // namespace

template <class T>
Adam<T>::Adam(std::vector<Var<T>> params, T lr, T beta1, T beta2, T eps, T weight_decay,
              bool decoupled)
    : Optimizer<T>(std::move(params), lr, decoupled ? "adamw" : "adam"),
      beta1_(beta1), beta2_(beta2), eps_(eps), weight_decay_(weight_decay),
      decoupled_(decoupled) {
  m_ = this->zeros_like_params();
  v_ = this->zeros_like_params();
  t_ = tg::zeros<T>(Shape{this->params_.size()});
}

template <class T>
void Adam<T>::step() {
  const T lr = this->lr_, b1 = beta1_, b2 = beta2_, eps = eps_;
  // Exactly one of the two decays is active; the other is the identity.
  const T l2 = decoupled_ ? T(0) : weight_decay_;
  const T shrink = decoupled_ ? T(1) - lr * weight_decay_ : T(1);
  if (t_.size() != this->params_.size())
    throw Error(this->name() + ": restored step counts have the wrong shape");
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    Var<T>& p = this->params_[i];
    if (!p.has_grad()) continue;
    this->check_sizes(i, {&m_[i], &v_[i]});
    const T t = (t_(i) += T(1));
    const T step_size = lr / (T(1) - std::pow(b1, t));
    const T inv_sqrt_bc2 = T(1) / std::sqrt(T(1) - std::pow(b2, t));
    const std::size_t n = p.size();
    T* w = p.value().data();
    const T* g = std::as_const(p).grad().data();
    T* m = m_[i].data();
    T* v = v_[i].data();
    const GradRows* rows = std::as_const(p).grad_rows();
    if (!rows || p.dim() < 1 || p.shape()[0] == 0) {
      adam_update<T, false>(w, g, m, v, n, b1, b2, eps, l2, shrink, step_size, inv_sqrt_bc2);
      continue;
    }
    const std::size_t row = n / p.shape()[0];
    for (std::size_t r = 0, o = 0; r < rows->mask.size(); ++r, o += row) {
      if (rows->mask[r])
        adam_update<T, false>(w + o, g + o, m + o, v + o, row, b1, b2, eps, l2, shrink, step_size, inv_sqrt_bc2);
      else
        adam_update<T, true>(w + o, g + o, m + o, v + o, row, b1, b2, eps, l2, shrink, step_size, inv_sqrt_bc2);
    }
  }
  this->count_step();
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> Adam<T>::state() {
  auto s = Optimizer<T>::state();
  const std::string& nm = this->name();
  s.emplace_back(nm + ".t", &t_);
  this->append_state(s, nm + ".m", m_);
  this->append_state(s, nm + ".v", v_);
  return s;
}

template class Adam<float>;
template class Adam<double>;

}  // namespace tg

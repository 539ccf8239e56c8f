#include <tapegrad/optim/schedule.hpp>

#include <cmath>

namespace tg {

template <class T>
void LRScheduler<T>::set_epoch(std::size_t e) {
  epoch_ = e;
  opt_.set_lr(lr_at(e));
}

template <class T>
StepLR<T>::StepLR(Optimizer<T>& opt, std::size_t step_size, T gamma)
    : LRScheduler<T>(opt), step_size_(step_size), gamma_(gamma) {
  if (step_size == 0) throw Error("StepLR: step_size must be > 0");
  if (!(gamma >= T(0))) throw Error("StepLR: gamma must be >= 0");
}

template <class T>
T StepLR<T>::lr_at(std::size_t epoch) const {
  // pow in double with an integer exponent: gamma^k to full precision.
  return static_cast<T>(double(this->base_lr()) *
                        std::pow(double(gamma_), double(epoch / step_size_)));
}

template <class T>
CosineLR<T>::CosineLR(Optimizer<T>& opt, std::size_t T_max, T eta_min)
    : LRScheduler<T>(opt), t_max_(T_max), eta_min_(eta_min) {
  if (T_max == 0) throw Error("CosineLR: T_max must be > 0");
  if (!(eta_min >= T(0))) throw Error("CosineLR: eta_min must be >= 0");
}

template <class T>
T CosineLR<T>::lr_at(std::size_t epoch) const {
  const double pi = std::acos(-1.0);
  const double c = std::cos(pi * double(epoch) / double(t_max_));
  return static_cast<T>(double(eta_min_) + (double(this->base_lr()) - double(eta_min_)) *
                                               (1.0 + c) / 2.0);
}

template class LRScheduler<float>;
template class LRScheduler<double>;
template class StepLR<float>;
template class StepLR<double>;
template class CosineLR<float>;
template class CosineLR<double>;

}  // namespace tg

// Learning-rate schedules: closed forms of torch.optim.lr_scheduler, in
// terms of a counter e that step() advances by one.
//
//   StepLR:    lr(e) = base_lr * gamma^floor(e / step_size)
//   CosineLR:  lr(e) = eta_min + (base_lr - eta_min) (1 + cos(pi e / T_max)) / 2
//
// base_lr is the optimizer's lr when the schedule is made; lr(0) = base_lr.
// Call step() once per epoch (after that epoch's optimizer steps), as in
// PyTorch; or once per optimizer step with step_size / T_max counted in
// steps. Past T_max the cosine rises again (it is periodic, as PyTorch's
// closed form); size T_max to the whole run.
#pragma once

#include <cstddef>

#include <tapegrad/optim/optimizer.hpp>

namespace tg {

template <class T>
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer<T>& opt) : opt_(opt), base_lr_(opt.lr()) {}
  virtual ~LRScheduler() = default;

  // Advances the counter and sets the optimizer's lr to lr_at(epoch()).
  void step() { set_epoch(epoch_ + 1); }
  // Jumps to epoch e (resuming from a checkpoint) and sets the lr.
  void set_epoch(std::size_t e);
  std::size_t epoch() const { return epoch_; }
  T base_lr() const { return base_lr_; }
  virtual T lr_at(std::size_t epoch) const = 0;

 private:
  Optimizer<T>& opt_;
  T base_lr_;
  std::size_t epoch_ = 0;
};

template <class T>
class StepLR : public LRScheduler<T> {
 public:
  // Throws if step_size is 0 or gamma < 0.
  StepLR(Optimizer<T>& opt, std::size_t step_size, T gamma = T(0.1));
  T lr_at(std::size_t epoch) const override;

 private:
  std::size_t step_size_;
  T gamma_;
};

template <class T>
class CosineLR : public LRScheduler<T> {
 public:
  // Throws if T_max is 0 or eta_min < 0.
  CosineLR(Optimizer<T>& opt, std::size_t T_max, T eta_min = T(0));
  T lr_at(std::size_t epoch) const override;

 private:
  std::size_t t_max_;
  T eta_min_;
};

extern template class LRScheduler<float>;
extern template class LRScheduler<double>;
extern template class StepLR<float>;
extern template class StepLR<double>;
extern template class CosineLR<float>;
extern template class CosineLR<double>;

}  // namespace tg

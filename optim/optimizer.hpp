// The optimizer interface and gradient clipping.
//
//   tg::Adam<float> opt(model.parameters(), 1e-3f);
//   for (...) {
//     Var<float> loss = ...;                      // forward
//     tape.backward(loss);
//     tg::clip_grad_norm(opt.params(), 5.0f);     // optional
//     opt.step();                                 // update every param with a grad
//     opt.zero_grad();
//     tape.clear();
//   }
//
// Every rule follows PyTorch's formulas (torch.optim, non-foreach path), so
// hyperparameters carry over. A parameter without a gradient (has_grad()
// false: no backward reached it since the last zero_grad) is skipped, as
// PyTorch skips a parameter whose .grad is None; its state is left untouched.
// See docs/optimizers.md for the update rules.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/autograd/tape.hpp>

namespace tg {

template <class T>
class Optimizer {
 public:
  // Throws tg::Error for an empty Var, a non-leaf (the result of an op: its
  // value is recomputed every forward, so updating it does nothing), a value
  // that does not require grad, the same parameter twice, or lr < 0.
  Optimizer(std::vector<Var<T>> params, T lr, std::string name);
  virtual ~Optimizer() = default;
  // Copying would share the parameters but not the state: forbid it.
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient; counts one step.
  virtual void step() = 0;
  // Marks every gradient absent (the buffers are kept for the next backward).
  void zero_grad();

  T lr() const { return lr_; }
  void set_lr(T lr);
  // Number of step() calls so far (restored with the state).
  std::size_t steps() const { return static_cast<std::size_t>(step_count_()); }
  const std::vector<Var<T>>& params() const { return params_; }

  // Named state tensors for checkpoints, e.g. "adam.step" (0-d: steps()),
  // "adam.m.3", "adam.v.3" (the 4th parameter's moments). Restore by writing
  // into the pointed-to tensors (same shapes) of an optimizer built over the
  // same parameters with the same hyperparameters; shapes are checked at the
  // next step(). Counters are stored as T: exact up to 2^24 steps in float.
  virtual std::vector<std::pair<std::string, Tensor<T>*>> state();

 protected:
  // Zeros of each parameter's shape: per-parameter state, allocated once.
  std::vector<Tensor<T>> zeros_like_params() const;
  // Appends one state tensor per parameter as "<key>.<index>".
  static void append_state(std::vector<std::pair<std::string, Tensor<T>*>>& out,
                           const std::string& key, std::vector<Tensor<T>>& per_param);
  // Throws unless parameter i's gradient and each state tensor have as many
  // elements as its value (a wrong restore would otherwise overrun buffers).
  void check_sizes(std::size_t i, std::initializer_list<const Tensor<T>*> state) const;
  // Counts one step; first checks that every parameter of the tape that
  // received a gradient is updated by some optimizer (throws naming it).
  void count_step();
  const std::string& name() const { return name_; }

  std::vector<Var<T>> params_;
  T lr_;

 private:
  std::string name_;
  Tensor<T> step_count_;  // 0-d
  // Expires with this optimizer: the tape's notes then no longer count its
  // parameters as updated.
  std::shared_ptr<const void> holder_ = std::make_shared<char>(0);
};

// Scales every gradient by max_norm / (norm + 1e-6) when that factor is below
// 1, where norm is the L2 norm of all gradients taken together as one vector
// (Pascanu et al. 2013, "On the difficulty of training RNNs"). Returns the
// norm before clipping, as torch.nn.utils.clip_grad_norm_. Parameters without
// a gradient are ignored. The sum of squares is accumulated in double, so
// float gradients do not overflow it. A non-finite norm is returned as is and
// makes the gradients non-finite (check the return value to skip such steps).
template <class T>
T clip_grad_norm(const std::vector<Var<T>>& params, T max_norm);
// The same with `norm` already known: grad_norm() of these gradients, as
// the Trainer takes it anyway to stop on a non-finite one.
template <class T>
T clip_grad_norm(const std::vector<Var<T>>& params, T max_norm, double norm);

// The L2 norm of all gradients taken together, summed in double; parameters
// without a gradient are ignored.
template <class T>
double grad_norm(const std::vector<Var<T>>& params);

// Clamps every gradient element to [-clip, clip] (clip >= 0).
template <class T>
void clip_grad_value(const std::vector<Var<T>>& params, T clip);

// For the options classes (AdamOptions and the like): returns v when ok,
// else throws tg::Error "<optimizer>: <option> <v> <rule>", e.g.
// "adam: beta1 1.5 is not in [0, 1)".
double check_option(bool ok, const char* optimizer, const char* option, double v,
                    const char* rule);

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace tg

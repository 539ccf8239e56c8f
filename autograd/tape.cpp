#include <tapegrad/autograd/tape.hpp>

#include <string>

#include <xtensor/xreducer.hpp>

#include <tapegrad/autograd/diagnostics/anomaly.hpp>
#include <tapegrad/autograd/diagnostics/op_timer.hpp>
#include <tapegrad/autograd/diagnostics/stale.hpp>
#include <tapegrad/autograd/profiler.hpp>
#include <tapegrad/backend/memory.hpp>

namespace tg {

template <class T>
void Node<T>::add_grad_sum_to(const Tensor<T>& g) {
  const auto& target = value.shape();
  if (std::equal(g.shape().begin(), g.shape().end(), target.begin(), target.end())) {
    add_grad(g);
    return;
  }
  // Right-aligned broadcasting: sum the leading axes g has in excess and the
  // axes where the target has extent 1.
  const std::size_t lead = g.dimension() - target.size();
  std::vector<std::size_t> axes;
  for (std::size_t a = 0; a < g.dimension(); ++a)
    if (a < lead || (target[a - lead] == 1 && g.shape()[a] != 1)) axes.push_back(a);
  Tensor<T> reduced = xt::sum(g, axes, xt::evaluation_strategy::immediate);
  reduced.reshape(target);
  add_grad(reduced);
}

template <class T>
const T* Node<T>::transposed_value() {
  const std::size_t r = value.shape()[0], c = value.shape()[1];
  if (!value_t || value_t_sweep != tape->sweeps() || value_t->size() != value.size()) {
    if (!value_t || value_t->size() != value.size())
      value_t = std::make_unique<Tensor<T>>(Tensor<T>::from_shape(Shape{c, r}));
    const T* v = value.data();
    T* t = value_t->data();
    // In 16 x 16 tiles: both sides stay in cache lines already loaded.
    for (std::size_t i0 = 0; i0 < r; i0 += 16)
      for (std::size_t j0 = 0; j0 < c; j0 += 16)
        for (std::size_t i = i0; i < std::min(i0 + 16, r); ++i)
          for (std::size_t j = j0; j < std::min(j0 + 16, c); ++j) t[j * r + i] = v[i * c + j];
    value_t_sweep = tape->sweeps();
  }
  return value_t->data();
}

template <class T>
Tensor<T>& Node<T>::zeroed_grad() {
  note_dense();
  return zero_filled_grad();
}

template <class T>
GradRows& Node<T>::zeroed_grad_rows() {
  fill_unwritten();
  if (!grad_rows) {
    grad_rows = std::make_unique<GradRows>();
    grad_rows->dense = has_grad;  // a contribution came before the bookkeeping began
  }
  GradRows& rows = *grad_rows;
  if (!has_grad) {
    if (rows.zero_elsewhere && !rows.dense && shapes_equal(grad, value)) {
      // Only the rows of the last backward can hold anything: zero those,
      // not the whole table (an embedding's gradient is as large as it).
      const std::size_t row = grad.size() / std::max<std::size_t>(value.shape()[0], 1);
      for (std::size_t r : rows.list) std::fill_n(grad.data() + r * row, row, T(0));
      has_grad = true;
    } else {
      zero_filled_grad();
    }
    rows.reset(value.shape()[0]);
    rows.zero_elsewhere = true;
  }
  return rows;
}

template <class T>
bool Node<T>::first_rows_write(std::size_t r0, std::size_t r1) {
  note_dense();
  const std::size_t rows = value.dimension() ? value.shape()[0] : 1;
  if (!has_grad) {
    if (!shapes_equal(grad, value)) grad = Tensor<T>::from_shape(value.shape());
    has_grad = true;
    unwritten_rows = rows;
  }
  if (r1 > unwritten_rows) {
    fill_unwritten();
    return false;
  }
  const std::size_t row = shape_size(value.shape()) / std::max<std::size_t>(rows, 1);
  std::fill(grad.data() + r1 * row, grad.data() + unwritten_rows * row, T(0));
  unwritten_rows = r0;
  return true;
}

template <class T>
void Node<T>::fill_unwritten_rows() {
  const std::size_t rows = value.dimension() ? value.shape()[0] : 1;
  const std::size_t row = shape_size(value.shape()) / std::max<std::size_t>(rows, 1);
  std::fill_n(grad.data(), unwritten_rows * row, T(0));
  unwritten_rows = 0;
}

template <class T>
Tensor<T>& Node<T>::zero_filled_grad() {
  fill_unwritten();
  if (!has_grad) {
    if (!shapes_equal(grad, value))
      grad = Tensor<T>::from_shape(value.shape());
    grad.fill(T(0));
    has_grad = true;
  }
  return grad;
}

template <class T>
T Node<T>::grad_beta() {
  note_dense();
  fill_unwritten();
  if (has_grad) return T(1);
  if (!shapes_equal(grad, value))
    grad = Tensor<T>::from_shape(value.shape());
  has_grad = true;
  return T(0);
}

template <class T>
Tape<T>::Tape() {
  memory::tune_allocator();
  profiler::enable_from_environment();
  profiler::detail::follow(this, [](void* t, bool on) { static_cast<Tape*>(t)->set_profiling(on); });
  set_profiling(profiler::enabled());
}

template <class T>
Tape<T>::~Tape() {
  profiler::detail::unfollow(this);
  clear();
}

// Seeds `out`, then runs every record a gradient reached, last first.
template <class T>
void Tape<T>::sweep(const Var<T>& out, const Tensor<T>& seed, bool retain) {
  check_output(out, seed);
  ++sweeps_;
  out.node()->add_grad(seed);
  bool ran = false;
  for (std::size_t i = records_.size(); i-- > 0;) {
    Record& r = records_[i];
    if (!r.reached()) continue;  // no gradient to pass on
    if (r.spent) spent_graph(i, ran);
    if (observers_.empty())
      r.run();
    else
      run_observed(i);
    ran = true;
    r.spent = !retain;
    // Every use of an output came later on the tape, so its gradient is
    // complete and now spent: hand the buffer back for the records to come.
    r.drop_grads();
  }
}

template <class T>
void Tape<T>::check_output(const Var<T>& out, const Tensor<T>& seed) const {
  if (out.node()->tape != this)
    throw Error("backward(): the output belongs to another tape");
  if (!out.requires_grad())
    throw Error("backward(): the output does not depend on any parameter "
                "(or was computed under no_grad)");
  if (cleared_since(*out.node()))
    throw Error("backward(): the tape was cleared after this output was computed; "
                "run the forward pass again, then call backward before clear()");
  if (!shapes_equal(seed, out))
    throw Error("backward(): seed shape " + shape_str(seed.shape()) +
                " differs from output shape " + shape_str(out.shape()));
}

template <class T>
void Tape<T>::spent_graph(std::size_t i, bool ran) {
  const char* op = nullptr;
  for (const TapeObserver<T>* o : observers_)
    if (!op) op = o->op_of(i);
  for (std::size_t k = i + 1; k-- > 0;) records_[k].drop_grads();
  throw Error("backward(): this graph was already differentiated (tape record " + std::to_string(i) +
              (op ? std::string(", op '") + op + "'" : std::string()) +
              " was run by an earlier backward; a second one would add the same gradients again). "
              "To differentiate again, clear() the tape and run the forward pass again; to run "
              "several backwards over one graph on purpose, pass tg::retain_graph to the earlier ones" +
              (ran ? ". This call had run later records first: the parameters' gradients may hold "
                     "part of it; zero them (zero_grad) before the next step"
                   : ""));
}

template <class T>
void Tape<T>::detach(TapeObserver<T>& o) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), &o), observers_.end());
}

// Puts `o` (null: none) in `slot`, detaching the observer there before.
template <class T>
void Tape<T>::own(std::unique_ptr<TapeObserver<T>>& slot, std::unique_ptr<TapeObserver<T>> o) {
  if (slot) detach(*slot);
  slot = std::move(o);
  if (slot) attach(*slot);
}

template <class T>
void Tape<T>::set_detect_anomaly(bool on) {
  if (on != detect_anomaly()) own(anomaly_, on ? std::make_unique<AnomalyDetector<T>>(*this) : nullptr);
}

template <class T>
void Tape<T>::set_watch_stale(bool on) {
  own(stale_, on ? std::make_unique<StaleWatch<T>>(*this) : nullptr);
}

template <class T>
const std::string& Tape<T>::stale_input() const {
  static const std::string none;
  return stale_ ? static_cast<const StaleWatch<T>&>(*stale_).found() : none;
}

template <class T>
void Tape<T>::set_profiling(bool on) {
  if (on != (profiler_ != nullptr)) own(profiler_, on ? std::make_unique<OpTimer<T>>() : nullptr);
}

template <class T>
void Tape<T>::notify_op(const char* op, std::initializer_list<const Var<T>*> inputs) {
  for (TapeObserver<T>* o : observers_) o->on_op(op, inputs);
}

template <class T>
void Tape<T>::notify_result(const Node<T>& n) {
  for (TapeObserver<T>* o : observers_) o->on_result(n);
}

template <class T>
void Tape<T>::notify_record(std::size_t record) {
  for (TapeObserver<T>* o : observers_) o->on_record(record);
}

template <class T>
void Tape<T>::run_observed(std::size_t record) {
  for (TapeObserver<T>* o : observers_) o->before_backward(record);
  records_[record].run();
  for (TapeObserver<T>* o : observers_) o->after_backward(record);
}

template struct Node<float>;
template struct Node<double>;
template class Tape<float>;
template class Tape<double>;

}  // namespace tg

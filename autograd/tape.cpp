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
  out.node()->accumulate(seed);
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

template class Tape<float>;
template class Tape<double>;

}  // namespace tg

// The one way to write an op: an OpScope. It finds the tape of the inputs,
// works out whether the result requires grad, makes the result, records the
// backward, and keeps alive for the backward only what the op saves:
//
//   template <class T>
//   Var<T> tanh(const Var<T>& a) {
//     OpScope<T> op("tanh", {&a});               // the tape, and "does any input require grad"
//     Var<T> y = op.result(tanh_of(a.value()));   // forward
//     op.backward(y, [a = op.input(a), y = op.save(y)] {  // a: no value; y: saved
//       a.accumulate(y.grad() * (T(1) - y.value() * y.value()));
//     });
//     return y;
//   }
//
// The closure captures handles, never Vars or nodes. op.input(v) (and
// op.output(y), the same for a result) gives the shape and the gradient
// verbs but no value(): reading a value the op did not save does not
// compile. op.save(v) gives value() too and keeps the value for the
// backward; every value not saved goes back to the cache as soon as no Var
// holds it. op.save_if(cond, v) saves only when cond holds (mul keeps b only
// when a needs a gradient); its value() throws, naming the op, when called
// on a value that was not saved. That check is always on: it is one
// predictable branch per value() call, paid only by conditional saves.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include <tapegrad/autograd/tape.hpp>

namespace tg {

// A node as a backward sees it without its value: shape and gradient.
template <class T>
class GradRef {
 public:
  explicit GradRef(NodePtr<T> n) : n_(std::move(n)) {}

  bool requires_grad() const { return n_->requires_grad; }
  bool has_grad() const { return n_->has_grad; }
  bool is_leaf() const { return n_->is_leaf(); }
  // The shape outlives a released value; so does the element count.
  const auto& shape() const { return n_->value.shape(); }
  std::size_t size() const { return shape_size(n_->value.shape()); }
  // The gradient received so far. For the op's result, when its backward
  // runs: dy, complete, and spent afterwards (a backward may overwrite it or
  // hand it on with accumulate(std::move(y.grad()))).
  Tensor<T>& grad() const { return n_->grad; }

  // The three gradient verbs (node.hpp).
  template <class G>
  void accumulate(G&& g) const {
    n_->accumulate(std::forward<G>(g));
  }
  GradSink<T> grad_sink() const { return n_->grad_sink(); }
  void accumulate_rows(std::size_t offset, const T* d, std::size_t n) const {
    n_->accumulate_rows(offset, d, n);
  }
  void accumulate_rows(const std::int64_t* ids, std::size_t count, const T* d, std::int64_t skip) const {
    n_->accumulate_rows(ids, count, d, skip);
  }

 protected:
  NodePtr<T> n_;
};

// A node whose value the backward reads: the op saved it.
template <class T>
class ValueRef : public GradRef<T> {
 public:
  // unsaved_by: null when saved, else the op that chose not to save it.
  ValueRef(NodePtr<T> n, const char* unsaved_by) : GradRef<T>(std::move(n)), unsaved_by_(unsaved_by) {}

  const Tensor<T>& value() const {
    if (__builtin_expect(unsaved_by_ != nullptr, 0))
      unsaved();
    return this->n_->value;
  }
  // The value transposed (2-D leaves; made once per sweep: Node::transposed_value).
  const T* transposed_value() const {
    value();
    return this->n_->transposed_value();
  }

 private:
  [[noreturn]] void unsaved() const {
    throw Error(std::string("backward of op '") + unsaved_by_ + "': reads the value of an input (shape " +
                shape_str(this->shape()) + ") that the op did not save (save_if's condition was false)");
  }
  const char* unsaved_by_;
};

template <class T>
class OpScope {
 public:
  // Throws naming the op when an input is an empty Var or the inputs belong
  // to different tapes. `name` must outlive the tape's records (a string
  // literal): errors raised during backward and the profiler read it then.
  OpScope(const char* name, std::initializer_list<const Var<T>*> inputs)
      : name_(name), tape_(&detail::tape_of(name, inputs, false)) {
    for (const Var<T>* v : inputs) any_ = any_ || v->requires_grad();
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

  // One more input, for ops over a list (concat, stack).
  void add_input(const Var<T>& v) {
    if (&detail::tape_of(name_, {&v}, false) != tape_)
      throw Error(std::string(name_) + ": inputs belong to different tapes");
    any_ = any_ || v.requires_grad();
  }

  Tape<T>& tape() const { return *tape_; }
  // A backward will be recorded: an input requires grad and the tape records.
  bool requires_grad() const { return any_ && tape_->recording(); }

  // The result: it requires grad when requires_grad() holds.
  Var<T> result(Tensor<T>&& value) { return tape_->result(std::move(value), any_, saves_chosen); }

  GradRef<T> input(const Var<T>& v) const { return GradRef<T>(v.node()); }
  GradRef<T> output(const Var<T>& y) const { return GradRef<T>(y.node()); }
  ValueRef<T> save(const Var<T>& v) const {
    tape_->save(v);
    return ValueRef<T>(v.node(), nullptr);
  }
  ValueRef<T> save_if(bool cond, const Var<T>& v) const {
    if (cond) tape_->save(v);
    return ValueRef<T>(v.node(), cond ? nullptr : name_);
  }

  // Records the backward of y; it runs when y receives a gradient.
  template <class F>
  void backward(const Var<T>& y, F&& f) {
    tape_->record(y, std::forward<F>(f));
  }
  // For two results (an LSTM cell's h and c): the backward runs when either
  // got a gradient and must read a missing one (has_grad() false) as zero.
  template <class F>
  void backward(const Var<T>& y, const Var<T>& y2, F&& f) {
    tape_->record2(y, y2, std::forward<F>(f));
  }

 private:
  const char* name_;
  Tape<T>* tape_;
  bool any_ = false;
};

}  // namespace tg

// The tape: a vector of backward records in execution order.
//
//   Tape<float> tape;
//   Var<float> W = tape.parameter(init);        // leaf, persists across steps
//   Var<float> x = tape.constant(batch);        // leaf, no gradient
//   Var<float> loss = mean(square(matmul(x, W)));  // each op appends a record
//   tape.backward(loss);                        // walks the records in reverse
//   ... optimizer reads W.grad() ...
//   tape.clear();                               // drop this step's graph
//
// Appending in execution order makes the tape a topological order for free, so
// backward is one reverse loop. Gradients accumulate (+=): a weight used at
// every time step of an RNN receives the sum over steps, which is BPTT.
// Leaves keep their gradients until zero_grad(); an intermediate result's
// gradient is released as soon as backward has passed it on.
//
// An intermediate value is released as soon as no Var holds it and no
// backward will read it (an op keeps only what it saves: OpScope, op.hpp). A chain
// y = y * c + d then keeps one buffer alive, not one per op.
//
// One backward per graph: a second backward through records an earlier one
// ran throws (it would add the same gradients into the leaves again). To
// differentiate again, clear() and run the forward pass again; to run
// several backwards over one graph on purpose (each adding into the leaves),
// pass tg::retain_graph to every backward but the last.
//
// Diagnostics (anomaly detection, the profiler, gradcheck's stale watch)
// see the tape through observers (observer.hpp); the sweep knows none of them.
#pragma once

#include <algorithm>
#include <array>
#include <initializer_list>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <memory>
#include <utility>
#include <vector>

#include <xtensor/xnoalias.hpp>

#include <tapegrad/autograd/node.hpp>
#include <tapegrad/autograd/observer.hpp>
#include <tapegrad/autograd/parameter_notes.hpp>
#include <tapegrad/autograd/var.hpp>
#include <tapegrad/backend/arena.hpp>
#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/backend/zip.hpp>

namespace tg {

template <class T>
class Tape;

// Passed to Tape::backward: keep the graph for another backward.
struct RetainGraph {};
inline constexpr RetainGraph retain_graph{};

// The type of an op's scalar arguments (pow's exponent, clamp's bounds): T,
// in a position that takes no part in deduction, so pow(x, 2.0) on a
// Var<float> takes T from x and converts 2.0 (as std::type_identity_t does).
template <class T>
struct scalar_arg {
  using type = T;
};
template <class T>
using scalar_t = typename scalar_arg<T>::type;
// The same for a tensor argument (a condition, a mask): it then also takes
// an xtensor expression such as `1.0 - mask`, evaluated into a Tensor<T>.
template <class T>
using tensor_arg_t = typename scalar_arg<Tensor<T>>::type;

// Passed to tape_of and Tape::result by OpScope (op.hpp), the one user: the op
// names what its backward reads with Tape::save, and the other values can be
// released once no Var holds them. Without it every input and the result are
// kept until clear().
struct SavesChosen {};
inline constexpr SavesChosen saves_chosen{};

template <class T>
class Tape {
 public:
  Tape();  // follows the profiler's switch (autograd/profiler.hpp)
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // A leaf that receives gradients and survives clear(): a weight. The
  // tape notes where it was made (the caller's file and line), to name it
  // if it receives gradients that no optimizer applies.
  Var<T> parameter(Tensor<T> value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    Var<T> v = leaf(std::move(value), true);
    parameter_notes_.add(v.node(), file, line);
    return v;
  }
  // The tape's notes on its parameters (autograd/parameter_notes.hpp):
  // modules label them, optimizers hold them.
  ParameterNotes<T>& parameter_notes() { return parameter_notes_; }
  const ParameterNotes<T>& parameter_notes() const { return parameter_notes_; }
  // A leaf without gradient: inputs, targets, masks.
  Var<T> constant(Tensor<T> value) { return leaf(std::move(value), false); }
  Var<T> leaf(Tensor<T> value, bool requires_grad) {
    NodePtr<T> n = make_node(std::move(value));
    n->requires_grad = requires_grad;
    n->tape = this;
    return Var<T>(std::move(n));
  }

  // Used by OpScope (op.hpp), the way every op is written: wrap a freshly
  // computed value. It requires grad when any input does and the tape is
  // recording; it is not kept unless the op or a later one saves it.
  Var<T> result(Tensor<T>&& value, bool any_input_requires_grad, SavesChosen) {
    return make_result(std::move(value), any_input_requires_grad, false);
  }
  // For ops that pass SavesChosen: a value their backward reads.
  void save(const Var<T>& v) { v.node()->saved = true; }

  // Used by ops: append the backward of `out`; it runs only if a gradient
  // reached `out`. The closure keeps alive exactly what it captures.
  template <class F>
  void record(const Var<T>& out, F&& backward) {
    record2(out, Var<T>(), std::forward<F>(backward));
  }
  // For ops with two results (a fused LSTM cell gives h and c): the backward
  // runs when either got a gradient, and must treat a missing one as zero.
  template <class F>
  void record2(const Var<T>& out, const Var<T>& out2, F&& backward) {
    if (!out.requires_grad()) return;
    using Fn = std::decay_t<F>;
    void* where = arena_.allocate(sizeof(Fn), alignof(Fn));
    Fn* fn = new (where) Fn(std::forward<F>(backward));
    records_.push_back({out.node().get(), out2.defined() ? out2.node().get() : nullptr, fn,
                        [](void* f) { (*static_cast<Fn*>(f))(); },
                        [](void* f) { static_cast<Fn*>(f)->~Fn(); }});
    if (!observers_.empty()) notify_record(records_.size() - 1);
  }

  // Called by every op (through tape_of) before it computes: its name and
  // inputs go to the observers. Unless the op chose what it saves, its
  // inputs are kept for its backward.
  void begin_op(const char* name, std::initializer_list<const Var<T>*> inputs, bool saves_inputs = true) {
    if (saves_inputs)
      for (const Var<T>* v : inputs) v->node()->saved = true;
    if (!observers_.empty()) notify_op(name, inputs);
  }

  // Diagnostics watch the tape through observers (autograd/observer.hpp),
  // not owned; with none attached each op and record pays one test.
  void attach(TapeObserver<T>& o) { observers_.push_back(&o); }
  void detach(TapeObserver<T>& o);

  // Anomaly detection (diagnostics/anomaly.hpp), off by default: every op's
  // result is checked for NaN/Inf as it is made, and after each backward
  // record runs, the gradients it wrote into the op's inputs. The error
  // names the op, its index on the tape and its input shapes.
  void set_detect_anomaly(bool on);
  bool detect_anomaly() const { return anomaly_ != nullptr; }

  // For gradcheck (diagnostics/stale.hpp): while on, the tape notes the
  // first op input that is the result of an op computed before the last
  // clear() and requires grad: a piece of graph built outside the function
  // being checked, where every gradient stops (and the numeric one too, as
  // its value never changes).
  void set_watch_stale(bool on);
  // "" when none was seen; else the op, the input and its shape.
  const std::string& stale_input() const;

  // True for the result of an op computed before the last clear(): its
  // record is gone, so no gradient passes through it.
  bool cleared_since(const Node<T>& n) const { return !n.is_leaf() && n.generation != generation_; }

  // Seeds d(loss)/d(loss) = 1 and walks the tape in reverse. The records it
  // runs are spent: a later backward through them throws.
  void backward(const Var<T>& loss) { sweep(loss, unit_seed(loss), false); }
  // The same, keeping the graph for another backward (which adds into the
  // leaves' gradients again).
  void backward(const Var<T>& loss, RetainGraph) { sweep(loss, unit_seed(loss), true); }
  // Seeds d(out) with `seed` (same shape as out) and walks the tape in reverse.
  void backward(const Var<T>& out, const Tensor<T>& seed) { sweep(out, seed, false); }
  void backward(const Var<T>& out, const Tensor<T>& seed, RetainGraph) {
    sweep(out, seed, true);
  }

  // Drops every record (and so every intermediate value and gradient nobody
  // else holds). Parameters keep their values and gradients.
  void clear() {
    for (Record& r : records_) r.destroy(r.closure);
    records_.clear();
    arena_.reset();
    ++generation_;
    for (TapeObserver<T>* o : observers_) o->on_clear();
  }
  ~Tape();
  std::size_t size() const { return records_.size(); }

  bool recording() const { return no_grad_depth_ == 0; }
  // Counts the backward sweeps begun: values cannot change during one.
  std::uint64_t sweeps() const { return sweeps_; }

  // While alive, ops record nothing and results require no gradient.
  class NoGrad {
   public:
    explicit NoGrad(Tape& t) : t_(t) { ++t_.no_grad_depth_; }
    ~NoGrad() { --t_.no_grad_depth_; }
    NoGrad(const NoGrad&) = delete;
    NoGrad& operator=(const NoGrad&) = delete;

   private:
    Tape& t_;
  };
  NoGrad no_grad() { return NoGrad(*this); }

 private:
  Var<T> make_result(Tensor<T>&& value, bool any_input_requires_grad, bool saved) {
    NodePtr<T> n = make_node(std::move(value));
    n->requires_grad = any_input_requires_grad && recording();
    n->saved = saved;
    n->tape = this;
    n->generation = generation_;
    if (!observers_.empty()) notify_result(*n);
    return Var<T>(std::move(n));
  }

  static Tensor<T> unit_seed(const Var<T>& loss) {
    if (loss.size() != 1)
      throw Error("backward(): the output has shape " + shape_str(loss.shape()) +
                  "; backward without a seed needs a single-element loss "
                  "(reduce it with sum() or mean(), or call backward(out, seed))");
    Tensor<T> seed = Tensor<T>::from_shape(loss.shape());
    seed.fill(T(1));
    return seed;
  }

  // The reverse sweep behind every backward (tape.cpp). Out of line: it is
  // one call per backward, and inlined into bench_tape's chain it made that
  // loop run 8% more instructions.
  void sweep(const Var<T>& out, const Tensor<T>& seed, bool retain);
  // Throws unless `out` can be differentiated with `seed` on this tape now.
  void check_output(const Var<T>& out, const Tensor<T>& seed) const;

  // A backward closure lives in the arena until clear(); the record points
  // at it, at its outputs, and at how to run and destroy it.
  struct Record {
    Node<T>* out;
    Node<T>* out2;  // second output, or null
    void* closure;
    void (*run_closure)(void*);
    void (*destroy)(void*);
    bool spent = false;  // run by a backward that did not retain the graph

    bool reached() const { return out->has_grad || (out2 && out2->has_grad); }
    // Rows of a gradient no step wrote (Node::accumulate_rows) read as
    // zero from here on: the closure sees whole gradients.
    void run() {
      out->fill_unwritten();
      if (out2) out2->fill_unwritten();
      run_closure(closure);
    }
    void drop_grads() {
      out->drop_grad();
      if (out2) out2->drop_grad();
    }
  };
  // Throws: record i was run by an earlier backward. Drops the gradients
  // still in flight first, so the tape is as it was but for the leaves.
  [[noreturn]] void spent_graph(std::size_t i, bool ran);
  std::vector<Record> records_;
  Arena arena_;
  ParameterNotes<T> parameter_notes_;
  std::uint64_t generation_ = 1;
  std::uint64_t sweeps_ = 0;
  int no_grad_depth_ = 0;

  // The observers, and the ones the tape's own switches made (owned while
  // on). The notify_ functions pass an event to each observer in turn.
  std::vector<TapeObserver<T>*> observers_;
  std::unique_ptr<TapeObserver<T>> anomaly_, stale_, profiler_;
  void own(std::unique_ptr<TapeObserver<T>>& slot, std::unique_ptr<TapeObserver<T>> o);
  void set_profiling(bool on);
  void notify_op(const char* op, std::initializer_list<const Var<T>*> inputs);
  void notify_result(const Node<T>& n);
  void notify_record(std::size_t record);
  void run_observed(std::size_t record);
};

namespace detail {
template <class T>
Tape<T>& tape_of(const char* op, std::initializer_list<const Var<T>*> inputs, bool saves_inputs) {
  Tape<T>* t = nullptr;
  for (const Var<T>* v : inputs) {
    if (!v->defined()) throw Error(std::string(op) + ": an input is an empty Var");
    if (!t) t = v->node()->tape;
    else if (t != v->node()->tape)
      throw Error(std::string(op) + ": inputs belong to different tapes");
  }
  t->begin_op(op, inputs, saves_inputs);
  return *t;
}
}  // namespace detail

extern template class Tape<float>;
extern template class Tape<double>;
extern template struct Node<float>;
extern template struct Node<double>;

}  // namespace tg

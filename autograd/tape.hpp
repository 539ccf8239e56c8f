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
// backward will read it (an op's backward reads its inputs' values and its
// result unless the op declares fewer: see `saves_chosen`). A chain
// y = y * c + d then keeps one buffer alive, not one per op.
//
// One backward per graph: a second backward through records an earlier one
// ran throws (it would add the same gradients into the leaves again). To
// differentiate again, clear() and run the forward pass again; to run
// several backwards over one graph on purpose (each adding into the leaves),
// pass tg::retain_graph to every backward but the last.
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
#include <tapegrad/autograd/parameter_notes.hpp>
#include <tapegrad/autograd/profiler.hpp>
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

// Passed to tape_of and Tape::result by an op whose backward reads only some
// of the values around it: the op then names those with Tape::save, and the
// others can be released once no Var holds them. Without it every input and
// the result are kept until clear().
struct SavesChosen {};
inline constexpr SavesChosen saves_chosen{};

// A handle to a node: cheap to copy, shares the node.
template <class T>
class Var {
 public:
  Var() = default;
  explicit Var(NodePtr<T> node) : node_(std::move(node)) {
    if (!node_) return;
    if (node_->value_released)
      throw Error("Var: the value of this node was released (no Var held it and no backward reads it)");
    ++node_->handles;
  }
  Var(const Var& o) : node_(o.node_) {
    if (node_) ++node_->handles;
  }
  Var(Var&& o) noexcept : node_(std::move(o.node_)) {}
  Var& operator=(const Var& o) {
    Var copy(o);
    return *this = std::move(copy);
  }
  Var& operator=(Var&& o) noexcept {
    if (this != &o) {
      drop();
      node_ = std::move(o.node_);
    }
    return *this;
  }
  ~Var() { drop(); }

  const Tensor<T>& value() const { return node_->value; }
  // Writable for optimizers and initialisers; do not change the shape.
  Tensor<T>& value() { return node_->value; }
  const auto& shape() const { return node_->value.shape(); }
  std::size_t dim() const { return node_->value.dimension(); }
  std::size_t size() const { return node_->value.size(); }

  bool requires_grad() const { return node_->requires_grad; }
  // Freezes (false) or unfreezes a parameter: a leaf only (an op's result
  // requires grad when its inputs do).
  void set_requires_grad(bool on) {
    if (!node_->is_leaf())
      throw Error("set_requires_grad(): only a leaf (tape.parameter) can be frozen or unfrozen; "
                  "this value is the result of an op");
    node_->requires_grad = on;
  }
  bool has_grad() const { return node_->has_grad; }
  // The gradient accumulated by backward; throws if none reached this value.
  const Tensor<T>& grad() const {
    node_->fill_unwritten();
    if (!node_->has_grad)
      throw Error("grad(): this value has no gradient (no backward reached it" +
                  std::string(node_->requires_grad ? ")" : "; it does not require grad)"));
    return node_->grad;
  }
  // Writable: whoever writes may touch any row, so grad_rows() says nothing after.
  Tensor<T>& grad() {
    node_->note_dense();
    return const_cast<Tensor<T>&>(std::as_const(*this).grad());
  }
  // The rows noted beside the gradient (grad_rows) are cleared by its next
  // first contribution.
  void zero_grad() { node_->forget_grad(); }
  // The rows of the gradient that received anything, when only index_select
  // wrote into it (an embedding table; rows of a padding id are not
  // counted); null otherwise, and when there is no gradient.
  const GradRows* grad_rows() const {
    const GradRows* r = node_->grad_rows.get();
    return node_->has_grad && r && !r->dense ? r : nullptr;
  }
  // The value of a one-element tensor (a loss).
  T item() const {
    if (node_->value.size() != 1)
      throw Error("item(): value has shape " + shape_str(shape()) + ", not a single element");
    return node_->value.data()[0];
  }

  Tape<T>& tape() const { return *node_->tape; }
  const NodePtr<T>& node() const { return node_; }
  bool defined() const { return node_ != nullptr; }

 private:
  void drop() noexcept {
    if (node_ && --node_->handles == 0) node_->last_handle_gone();
    node_.reset();
  }
  NodePtr<T> node_;
};

void tune_allocator();  // see tape.cpp

// Bump allocation in chunks that are kept across clear(): recording an op
// costs a pointer increment, not a malloc.
class Arena {
 public:
  void* allocate(std::size_t bytes, std::size_t align) {
    std::size_t at = (used_ + align - 1) & ~(align - 1);
    if (chunk_ >= chunks_.size() || at + bytes > chunks_[chunk_].size) {
      next_chunk(bytes + align);
      at = (used_ + align - 1) & ~(align - 1);
    }
    used_ = at + bytes;
    return chunks_[chunk_].data.get() + at;
  }
  void reset() {
    chunk_ = 0;
    used_ = 0;
  }

 private:
  struct Chunk {
    std::unique_ptr<unsigned char[]> data;
    std::size_t size;
  };
  void next_chunk(std::size_t at_least);
  std::vector<Chunk> chunks_;
  std::size_t chunk_ = 0, used_ = 0;
};

template <class T>
class Tape {
 public:
  Tape() {
    tune_allocator();
    profiler::enable_from_environment();
  }
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

  // Used by ops: wrap a freshly computed value. It requires grad when any
  // input does and the tape is recording.
  Var<T> result(Tensor<T>&& value, bool any_input_requires_grad) {
    return make_result(std::move(value), any_input_requires_grad, true);
  }
  // The same for an op that names what its backward reads (SavesChosen):
  // the result is not kept unless the op or a later one saves it.
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
    if (anomaly_ || profiler::enabled()) {
      op_records_.resize(records_.size() - 1, {"(recorded before detection was on)", {}});
      op_records_.push_back({op_, anomaly_ ? op_inputs_ : std::vector<const Node<T>*>{}});
    }
  }

  // Anomaly detection, off by default (and then free but for a flag test):
  // every op's result is checked for NaN/Inf as it is made, and after each
  // backward record runs, the gradients it wrote into the op's inputs. The
  // error names the op, its index on the tape and its input shapes.
  void set_detect_anomaly(bool on) { anomaly_ = on; }
  bool detect_anomaly() const { return anomaly_; }
  // Called by every op (through tape_of) before it computes: its name, and
  // its inputs when anomaly detection is on. Unless the op chose what it
  // saves, its inputs are kept for its backward.
  void begin_op(const char* name, std::initializer_list<const Var<T>*> inputs, bool saves_inputs = true) {
    op_ = name;
    if (saves_inputs)
      for (const Var<T>* v : inputs) v->node()->saved = true;
    if (profiler::enabled()) {
      op_start_ = profiler::detail::Clock::now();
      op_results_ = 0;
    }
    if (watch_stale_) note_stale(name, inputs);
    if (!anomaly_) return;
    op_inputs_.clear();
    for (const Var<T>* v : inputs) op_inputs_.push_back(v->node().get());
  }

  // For gradcheck: while on, the tape notes the first op input that is the
  // result of an op computed before the last clear() and requires grad: a
  // piece of graph built outside the function being checked, where every
  // gradient stops (and the numeric one too, as its value never changes).
  void set_watch_stale(bool on) {
    watch_stale_ = on;
    stale_.clear();
  }
  // "" when none was seen; else the op, the input and its shape.
  const std::string& stale_input() const { return stale_; }

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
    op_records_.clear();
    arena_.reset();
    ++generation_;
  }
  ~Tape() { clear(); }
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
    if (anomaly_) check_result(*n);
    if (profiler::enabled()) profile_result(*n);
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

  // The reverse sweep behind every backward.
  void sweep(const Var<T>& out, const Tensor<T>& seed, bool retain) {
    if (out.node()->tape != this)
      throw Error("backward(): the output belongs to another tape");
    if (!out.requires_grad())
      throw Error("backward(): the output does not depend on any parameter "
                  "(or was computed under no_grad)");
    if (out.node()->generation != 0 && out.node()->generation != generation_)
      throw Error("backward(): the tape was cleared after this output was computed; "
                  "run the forward pass again, then call backward before clear()");
    if (!shapes_equal(seed, out))
      throw Error("backward(): seed shape " + shape_str(seed.shape()) +
                  " differs from output shape " + shape_str(out.shape()));
    ++sweeps_;
    out.node()->accumulate(seed);
    bool ran = false;
    for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
      Node<T>* n2 = it->out2;
      if (!it->out->has_grad && !(n2 && n2->has_grad)) continue;
      if (it->spent) spent_graph(it, ran);
      for (Node<T>* n : {it->out, n2})
        if (n) n->fill_unwritten();
      if (profiler::enabled()) {
        const auto t0 = profiler::detail::Clock::now();
        it->run(it->closure);
        profile_backward(std::size_t(records_.rend() - it) - 1, profiler::detail::Clock::now() - t0);
      } else {
        it->run(it->closure);
      }
      ran = true;
      it->spent = !retain;
      if (anomaly_) check_gradients(std::size_t(records_.rend() - it) - 1);
      // Every use of an output came later on the tape, so its gradient is
      // complete and now spent: hand the buffer back for the records to come.
      for (Node<T>* n : {it->out, n2})
        if (n) n->drop_grad();
    }
  }

  // A backward closure lives in the arena until clear(); the record points
  // at it, at its output node, and at how to run and destroy it.
  struct Record {
    Node<T>* out;
    Node<T>* out2;  // second output, or null
    void* closure;
    void (*run)(void*);
    void (*destroy)(void*);
    bool spent = false;  // run by a backward that did not retain the graph
  };
  using RecordIt = typename std::vector<Record>::reverse_iterator;
  // Throws: `it` was run by an earlier backward. Drops the gradients still in
  // flight first, so the tape is as it was but for the leaves.
  [[noreturn]] void spent_graph(RecordIt it, bool ran);
  std::vector<Record> records_;
  Arena arena_;
  ParameterNotes<T> parameter_notes_;
  std::uint64_t generation_ = 1;
  std::uint64_t sweeps_ = 0;
  int no_grad_depth_ = 0;

  // Anomaly detection and the profiler: the op being computed, and per
  // record its name and inputs (kept only while one of them is on; the
  // inputs only for anomaly detection).
  struct OpRecord {
    const char* op;
    std::vector<const Node<T>*> inputs;
  };
  void check_result(const Node<T>& n) const;        // throws on NaN/Inf
  void check_gradients(std::size_t record) const;   // throws on NaN/Inf
  void profile_result(const Node<T>& n);
  void profile_backward(std::size_t record, profiler::detail::Clock::duration d) const;
  void note_stale(const char* op, std::initializer_list<const Var<T>*> inputs);
  bool watch_stale_ = false;
  std::string stale_;
  bool anomaly_ = false;
  const char* op_ = "";
  std::vector<const Node<T>*> op_inputs_;
  std::vector<OpRecord> op_records_;
  profiler::detail::Clock::time_point op_start_;
  int op_results_ = 0;
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

// The tape shared by a set of inputs; throws if they come from different
// tapes. The inputs' values are kept for the op's backward.
template <class T>
Tape<T>& tape_of(const char* op, std::initializer_list<const Var<T>*> inputs) {
  return detail::tape_of(op, inputs, true);
}
// The same for an op that marks what its backward reads (Tape::save).
template <class T>
Tape<T>& tape_of(const char* op, std::initializer_list<const Var<T>*> inputs, SavesChosen) {
  return detail::tape_of(op, inputs, false);
}

extern template class Tape<float>;
extern template class Tape<double>;
extern template struct Node<float>;
extern template struct Node<double>;

}  // namespace tg

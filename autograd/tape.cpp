#include <tapegrad/autograd/tape.hpp>

#include <malloc.h>

#include <cmath>
#include <mutex>
#include <string>

#include <xtensor/xreducer.hpp>

namespace tg {

// Freed large blocks go back to the OS by default, and touching fresh pages
// costs ~13 us per 4 KiB on these VMs: a tape that allocates its results anew
// every step would spend most of its time in page faults. Keeping freed
// memory in the process makes the next step reuse warm pages.
void tune_allocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
}

void Arena::next_chunk(std::size_t at_least) {
  // Move to the next kept chunk if it is big enough, else insert a new one.
  if (!chunks_.empty()) ++chunk_;
  if (chunk_ < chunks_.size() && chunks_[chunk_].size >= at_least) {
    used_ = 0;
    return;
  }
  const std::size_t size = std::max<std::size_t>(at_least, 256 << 10);
  chunks_.insert(chunks_.begin() + chunk_, Chunk{std::make_unique<unsigned char[]>(size), size});
  used_ = 0;
}

namespace {

// The index and value of the first NaN/Inf element from `from` on, or false.
template <class T>
bool first_non_finite(const Tensor<T>& t, std::size_t* at, T* value, std::size_t from = 0) {
  const T* p = t.data();
  for (std::size_t i = from; i < t.size(); ++i)
    if (!std::isfinite(p[i])) {
      *at = i;
      *value = p[i];
      return true;
    }
  return false;
}

template <class T>
std::string shapes_of(const std::vector<const Node<T>*>& inputs) {
  std::string s;
  for (const Node<T>* n : inputs) s += (s.empty() ? "" : ", ") + shape_str(n->value.shape());
  return s;
}

}  // namespace

template <class T>
void Tape<T>::note_stale(const char* op, std::initializer_list<const Var<T>*> inputs) {
  std::size_t k = 0;
  for (const Var<T>* v : inputs) {
    const Node<T>& n = *v->node();
    if (stale_.empty() && n.requires_grad && n.generation != 0 && n.generation != generation_)
      stale_ = "input " + std::to_string(k) + " (shape " + shape_str(n.value.shape()) + ") of op '" +
               op + "' was computed before the tape was cleared";
    ++k;
  }
}

template <class T>
void Tape<T>::spent_graph(RecordIt it, bool ran) {
  const std::size_t record = std::size_t(records_.rend() - it) - 1;
  for (; it != records_.rend(); ++it)
    for (Node<T>* n : {it->out, it->out2})
      if (n) n->drop_grad();
  const char* op = record < op_records_.size() ? op_records_[record].op : nullptr;
  throw Error("backward(): this graph was already differentiated (tape record " + std::to_string(record) +
              (op ? std::string(", op '") + op + "'" : std::string()) +
              " was run by an earlier backward; a second one would add the same gradients again). "
              "To differentiate again, clear() the tape and run the forward pass again; to run "
              "several backwards over one graph on purpose, pass tg::retain_graph to the earlier ones" +
              (ran ? ". This call had run later records first: the parameters' gradients may hold "
                     "part of it; zero them (zero_grad) before the next step"
                   : ""));
}

template <class T>
void Tape<T>::check_result(const Node<T>& n) const {
  std::size_t at;
  T v;
  if (!first_non_finite(n.value, &at, &v)) return;
  throw Error("anomaly: op '" + std::string(op_) + "' (tape record " + std::to_string(records_.size()) +
              ", inputs " + shapes_of(op_inputs_) + ") produced " + std::to_string(v) +
              " at element " + std::to_string(at) + " of its result " + shape_str(n.value.shape()));
}

template <class T>
void Tape<T>::profile_result(const Node<T>& n) {
  // An op with two results (an LSTM cell's h and c) counts one call; each
  // result adds the time since the previous mark.
  const auto now = profiler::detail::Clock::now();
  profiler::detail::add_forward(op_, now - op_start_, n.value.size() * sizeof(T), op_results_++ == 0);
  op_start_ = now;
}

template <class T>
void Tape<T>::profile_backward(std::size_t record, profiler::detail::Clock::duration d) const {
  profiler::detail::add_backward(record < op_records_.size() ? op_records_[record].op : "(unknown)", d);
}

template <class T>
void Tape<T>::check_gradients(std::size_t record) const {
  if (record >= op_records_.size()) return;  // recorded before detection was on
  const OpRecord& r = op_records_[record];
  for (std::size_t k = 0; k < r.inputs.size(); ++k) {
    const Node<T>* n = r.inputs[k];
    std::size_t at;
    T v;
    // Unwritten rows (Node::first_rows_write) hold no value yet.
    const std::size_t from =
        n->unwritten_rows ? n->unwritten_rows * (n->grad.size() / n->value.shape()[0]) : 0;
    if (n->has_grad && first_non_finite(n->grad, &at, &v, from))
      throw Error("anomaly: the backward of op '" + std::string(r.op) + "' (tape record " +
                  std::to_string(record) + ", inputs " + shapes_of(r.inputs) + ") gave input " +
                  std::to_string(k) + " a gradient of " + std::to_string(v) + " at element " +
                  std::to_string(at));
  }
}

template class Tape<float>;
template class Tape<double>;

}  // namespace tg

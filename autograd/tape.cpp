#include <tapegrad/autograd/tape.hpp>

#include <cmath>
#include <string>

#include <xtensor/xreducer.hpp>

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

template struct Node<float>;
template struct Node<double>;
template class Tape<float>;
template class Tape<double>;

}  // namespace tg

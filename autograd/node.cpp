// Node's gradient verbs that are too long to read inline (node.hpp).
#include <tapegrad/autograd/tape.hpp>

#include <algorithm>
#include <vector>

#include <xtensor/xreducer.hpp>

namespace tg {

template <class T>
void Node<T>::sum_to_and_add(const Tensor<T>& g) {
  const auto& target = value.shape();
  // Right-aligned broadcasting: sum the leading axes g has in excess and the
  // axes where the target has extent 1.
  const std::size_t lead = g.dimension() - target.size();
  std::vector<std::size_t> axes;
  for (std::size_t a = 0; a < g.dimension(); ++a)
    if (a < lead || (target[a - lead] == 1 && g.shape()[a] != 1)) axes.push_back(a);
  Tensor<T> reduced = xt::sum(g, axes, xt::evaluation_strategy::immediate);
  reduced.reshape(target);
  accumulate(reduced);
}

template <class T>
GradSink<T> Node<T>::grad_sink() {
  note_dense();
  fill_unwritten();
  if (has_grad) return {grad, T(1)};
  if (!shapes_equal(grad, value)) grad = Tensor<T>::from_shape(value.shape());
  has_grad = true;
  return {grad, T(0)};
}

template <class T>
void Node<T>::accumulate_rows(std::size_t offset, const T* d, std::size_t n) {
  const std::size_t rows = value.dimension() ? value.shape()[0] : 0;
  const std::size_t row = rows ? shape_size(value.shape()) / rows : 0;
  if (!is_leaf() && row && offset % row == 0 && n % row == 0 &&
      first_rows_write(offset / row, (offset + n) / row)) {
    std::copy_n(d, n, grad.data() + offset);
    return;
  }
  T* g = zeroed_grad().data() + offset;
  for (std::size_t i = 0; i < n; ++i) g[i] += d[i];
}

template <class T>
void Node<T>::accumulate_rows(const std::int64_t* ids, std::size_t count, const T* d, std::int64_t skip) {
  const std::size_t row = shape_size(value.shape()) / std::max<std::size_t>(value.shape()[0], 1);
  GradRows* rows = is_leaf() ? &zeroed_grad_rows() : nullptr;
  T* g = rows ? grad.data() : zeroed_grad().data();
  for (std::size_t i = 0; i < count; ++i) {
    if (ids[i] == skip) continue;
    if (rows) rows->add(std::size_t(ids[i]));
    T* gr = g + ids[i] * row;
    const T* dr = d + i * row;
    for (std::size_t j = 0; j < row; ++j) gr[j] += dr[j];
  }
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

// The buffer, zero-filled on the first contribution.
template <class T>
Tensor<T>& Node<T>::zeroed_grad() {
  grad_sink().zeroed();
  return grad;
}

// zeroed_grad() for index_select into rows of this node: the rows it adds
// into are to be noted in the result, which is reset on the first
// contribution (the gradient was zeroed since).
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
      // Not zeroed_grad(): that would mark the rows dense.
      if (!shapes_equal(grad, value)) grad = Tensor<T>::from_shape(value.shape());
      grad.fill(T(0));
      has_grad = true;
    }
    rows.reset(value.shape()[0]);
    rows.zero_elsewhere = true;
  }
  return rows;
}

// For adding into rows [r0, r1) of the first axis of an op result's
// gradient: true when the caller is to write them (nothing is there yet),
// false when it is to add.
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

template struct Node<float>;
template struct Node<double>;

}  // namespace tg

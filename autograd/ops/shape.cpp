#include <tapegrad/autograd/ops/shape.hpp>

#include <algorithm>
#include <numeric>

#include <tapegrad/autograd/op.hpp>

namespace tg {
namespace {

// A tensor seen as (outer, extent, inner) around one axis: slices, concats
// and stacks are then contiguous block copies of extent*inner elements.
struct AxisView {
  std::size_t outer = 1, extent = 1, inner = 1;
};

template <class S>
AxisView around(const S& shape, std::size_t axis) {
  AxisView v;
  for (std::size_t i = 0; i < axis; ++i) v.outer *= shape[i];
  v.extent = shape[axis];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) v.inner *= shape[i];
  return v;
}

// Joins blocks: for each o < outer, piece j contributes chunk[j] contiguous
// elements. Used by concat and stack, forward (gather) and backward (scatter).
template <class T>
void join(const std::vector<const T*>& src, const std::vector<std::size_t>& chunk,
          std::size_t outer, T* dst) {
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < src.size(); ++j) {
      dst = std::copy_n(src[j] + o * chunk[j], chunk[j], dst);
    }
}

template <class T>
void unjoin_add(const T* src, const std::vector<GradRef<T>>& xs,
                const std::vector<std::size_t>& chunk, std::size_t outer) {
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < xs.size(); ++j) {
      if (xs[j].requires_grad()) {
        T* g = xs[j].grad_sink().zeroed() + o * chunk[j];
        for (std::size_t i = 0; i < chunk[j]; ++i) g[i] += src[i];
      }
      src += chunk[j];
    }
}

template <class T>
Var<T> join_op(const char* name, const std::vector<Var<T>>& xs, const Shape& out_shape,
               const std::vector<std::size_t>& chunk, std::size_t outer) {
  OpScope<T> op(name, {&xs[0]});
  std::vector<GradRef<T>> inputs;
  std::vector<const T*> src;
  for (const Var<T>& x : xs) {
    op.add_input(x);
    inputs.push_back(op.input(x));
    src.push_back(x.value().data());
  }
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  join(src, chunk, outer, out.data());
  Var<T> y = op.result(std::move(out));
  op.backward(y, [inputs = std::move(inputs), chunk, outer, y = op.output(y)] {
    unjoin_add(y.grad().data(), inputs, chunk, outer);
  });
  return y;
}

}  // namespace

std::size_t normalize_axis(const char* op, int axis, std::size_t rank) {
  const long r = static_cast<long>(rank);
  const long a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r)
    throw Error(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for rank " +
                std::to_string(rank));
  return static_cast<std::size_t>(a);
}

namespace {

// reshape, unsqueeze and squeeze: one copy, named `op` for errors and the profiler.
template <class T>
Var<T> reshape_op(const char* name, const Var<T>& a, const Shape& shape) {
  OpScope<T> op(name, {&a});
  if (shape_size(shape) != a.size())
    throw Error(std::string(name) + ": cannot reshape " + shape_str(a.shape()) + " (" +
                std::to_string(a.size()) + " elements) to " + shape_str(shape));
  Tensor<T> out = a.value();
  out.reshape(shape);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.output(y)] {
    T* g = a.grad_sink().zeroed();
    const T* dy = y.grad().data();
    for (std::size_t i = 0, n = a.size(); i < n; ++i) g[i] += dy[i];
  });
  return y;
}

}  // namespace

template <class T>
Var<T> reshape(const Var<T>& a, const Shape& shape) {
  return reshape_op("reshape", a, shape);
}

template <class T>
Var<T> unsqueeze(const Var<T>& a, int axis) {
  const std::size_t at = normalize_axis("unsqueeze", axis, a.dim() + 1);
  Shape shape = to_shape(a.shape());
  shape.insert(shape.begin() + at, 1);
  return reshape_op("unsqueeze", a, shape);
}

template <class T>
Var<T> squeeze(const Var<T>& a, int axis) {
  const std::size_t at = normalize_axis("squeeze", axis, a.dim());
  if (a.shape()[at] != 1)
    throw Error("squeeze: axis " + std::to_string(axis) + " of shape " + shape_str(a.shape()) +
                " has extent " + std::to_string(a.shape()[at]) + ", not 1");
  Shape shape = to_shape(a.shape());
  shape.erase(shape.begin() + at);
  return reshape_op("squeeze", a, shape);
}

template <class T>
Var<T> slice(const Var<T>& a, int axis_arg, std::size_t begin, std::size_t end) {
  OpScope<T> op("slice", {&a});
  const std::size_t axis = normalize_axis("slice", axis_arg, a.dim());
  const AxisView v = around(a.shape(), axis);
  if (begin > end || end > v.extent)
    throw Error("slice: range [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") is out of bounds for axis " + std::to_string(axis) + " of shape " +
                shape_str(a.shape()));
  Shape out_shape = to_shape(a.shape());
  out_shape[axis] = end - begin;
  const std::size_t len = (end - begin) * v.inner, stride = v.extent * v.inner;
  const std::size_t offset = begin * v.inner;
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  const T* src = a.value().data();
  for (std::size_t o = 0; o < v.outer; ++o)
    std::copy_n(src + o * stride + offset, len, out.data() + o * len);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.output(y), outer = v.outer, len, stride, offset] {
    T* g = a.grad_sink().zeroed();
    const T* dy = y.grad().data();
    for (std::size_t o = 0; o < outer; ++o)
      for (std::size_t i = 0; i < len; ++i) g[o * stride + offset + i] += dy[o * len + i];
  });
  return y;
}

template <class T>
Var<T> select(const Var<T>& a, std::size_t t) {
  OpScope<T> op("select", {&a});
  if (a.dim() < 1 || t >= a.shape()[0])
    throw Error("select: index " + std::to_string(t) + " is out of range for shape " +
                shape_str(a.shape()));
  const Shape out_shape(a.shape().begin() + 1, a.shape().end());
  const std::size_t n = shape_size(out_shape);
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  std::copy_n(a.value().data() + t * n, n, out.data());
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.output(y), t, n] {
    T* g = a.grad_sink().zeroed() + t * n;
    const T* dy = y.grad().data();
    for (std::size_t i = 0; i < n; ++i) g[i] += dy[i];
  });
  return y;
}

template <class T>
Var<T> concat(const std::vector<Var<T>>& xs, int axis_arg) {
  if (xs.empty()) throw Error("concat: no inputs");
  const std::size_t axis = normalize_axis("concat", axis_arg, xs[0].dim());
  Shape out_shape = to_shape(xs[0].shape());
  out_shape[axis] = 0;
  std::vector<std::size_t> chunk;
  for (const Var<T>& x : xs) {
    bool same = x.dim() == out_shape.size();
    for (std::size_t i = 0; same && i < out_shape.size(); ++i)
      same = i == axis || x.shape()[i] == out_shape[i];
    if (!same)
      throw Error("concat: shape " + shape_str(x.shape()) + " does not match " +
                  shape_str(xs[0].shape()) + " outside axis " + std::to_string(axis));
    out_shape[axis] += x.shape()[axis];
    const AxisView v = around(x.shape(), axis);
    chunk.push_back(v.extent * v.inner);
  }
  return join_op("concat", xs, out_shape, chunk, around(xs[0].shape(), axis).outer);
}

template <class T>
Var<T> stack(const std::vector<Var<T>>& xs, int axis_arg) {
  if (xs.empty()) throw Error("stack: no inputs");
  const std::size_t axis = normalize_axis("stack", axis_arg, xs[0].dim() + 1);
  for (const Var<T>& x : xs)
    if (x.shape() != xs[0].shape())
      throw Error("stack: shape " + shape_str(x.shape()) + " differs from " +
                  shape_str(xs[0].shape()));
  Shape out_shape = to_shape(xs[0].shape());
  out_shape.insert(out_shape.begin() + axis, xs.size());
  std::size_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= out_shape[i];
  std::vector<std::size_t> chunk(xs.size(), xs[0].size() / std::max<std::size_t>(outer, 1));
  return join_op("stack", xs, out_shape, chunk, outer);
}

template <class T>
std::vector<Var<T>> split(const Var<T>& a, int axis_arg, const std::vector<std::size_t>& sizes) {
  const std::size_t axis = normalize_axis("split", axis_arg, a.dim());
  if (std::accumulate(sizes.begin(), sizes.end(), std::size_t(0)) != a.shape()[axis])
    throw Error("split: sizes " + shape_str(sizes) + " do not add up to extent " +
                std::to_string(a.shape()[axis]) + " of axis " + std::to_string(axis) +
                " of shape " + shape_str(a.shape()));
  std::vector<Var<T>> parts;
  std::size_t begin = 0;
  for (std::size_t s : sizes) {
    parts.push_back(slice(a, static_cast<int>(axis), begin, begin + s));
    begin += s;
  }
  return parts;
}

template <class T>
std::vector<Var<T>> split(const Var<T>& a, int axis_arg, std::size_t parts) {
  const std::size_t axis = normalize_axis("split", axis_arg, a.dim());
  if (parts == 0 || a.shape()[axis] % parts != 0)
    throw Error("split: extent " + std::to_string(a.shape()[axis]) + " of axis " +
                std::to_string(axis) + " does not divide into " + std::to_string(parts) +
                " equal parts");
  return split(a, axis_arg, std::vector<std::size_t>(parts, a.shape()[axis] / parts));
}

template <class T>
Var<T> detach(const Var<T>& a) {
  OpScope<T> op("detach", {&a});
  return op.tape().constant(a.value());
}

template <class T>
Var<T> index_select(const Var<T>& a, const std::int64_t* ids, const Shape& ids_shape,
                    std::int64_t no_grad_index) {
  OpScope<T> op("index_select", {&a});
  if (a.dim() < 1) throw Error("index_select: needs a tensor of rank >= 1, got a scalar");
  const std::size_t rows = a.shape()[0], row = a.size() / std::max<std::size_t>(rows, 1);
  const std::size_t count = shape_size(ids_shape);
  for (std::size_t i = 0; i < count; ++i)
    if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= rows)
      throw Error("index_select: index " + std::to_string(ids[i]) + " at position " +
                  std::to_string(i) + " is out of range for " + std::to_string(rows) + " rows");
  Shape out_shape = ids_shape;
  out_shape.insert(out_shape.end(), a.shape().begin() + 1, a.shape().end());
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  for (std::size_t i = 0; i < count; ++i)
    std::copy_n(a.value().data() + ids[i] * row, row, out.data() + i * row);
  Var<T> y = op.result(std::move(out));
  // Scatter-add into the rows used: a repeated index receives the sum. Into
  // a leaf (an embedding table), the rows are noted (Node::grad_rows).
  op.backward(y, [a = op.input(a), y = op.output(y), ids = std::vector<std::int64_t>(ids, ids + count),
                  no_grad_index] { a.accumulate_rows(ids.data(), ids.size(), y.grad().data(), no_grad_index); });
  return y;
}

#define TG_INSTANTIATE(T)                                                                 \
  template Var<T> reshape(const Var<T>&, const Shape&);                                   \
  template Var<T> unsqueeze(const Var<T>&, int);                                          \
  template Var<T> squeeze(const Var<T>&, int);                                            \
  template Var<T> slice(const Var<T>&, int, std::size_t, std::size_t);                    \
  template Var<T> select(const Var<T>&, std::size_t);                                     \
  template Var<T> concat(const std::vector<Var<T>>&, int);                                \
  template Var<T> stack(const std::vector<Var<T>>&, int);                                 \
  template std::vector<Var<T>> split(const Var<T>&, int, const std::vector<std::size_t>&); \
  template std::vector<Var<T>> split(const Var<T>&, int, std::size_t);                    \
  template Var<T> detach(const Var<T>&);                                                   \
  template Var<T> index_select(const Var<T>&, const std::int64_t*, const Shape&, std::int64_t);
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)

}  // namespace tg

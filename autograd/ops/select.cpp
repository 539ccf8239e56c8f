#include <tapegrad/autograd/ops/select.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <tapegrad/autograd/ops/shape.hpp>

namespace tg {
namespace {

// x seen as (outer, n, inner) around one axis: lane (o, i) holds the n
// entries x[(o*n + e)*inner + i].
struct Lanes {
  std::size_t outer = 1, n = 1, inner = 1;
  Lanes(const Shape& shape, std::size_t axis) : n(shape[axis]) {
    for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
    for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  }
};

// a ranks above b: larger, or NaN where b is not (NaN counts as the largest).
template <class T>
bool above(T a, T b) {
  return a > b || (std::isnan(a) && !std::isnan(b));
}

// Draws one index per row of `n` weights; fill(r, w) writes row r's weights
// into w. A negative, NaN or infinite weight, or a row of zeros, throws
// naming `op` and the row.
template <class F>
Tensor<std::int64_t> draw_rows(const char* op, const Shape& shape, Rng& rng, F&& fill) {
  if (shape.empty()) throw Error(std::string(op) + ": needs rows of classes (..., C), got a scalar");
  const std::size_t n = shape.back();
  Tensor<std::int64_t> out = Tensor<std::int64_t>::from_shape(Shape(shape.begin(), shape.end() - 1));
  std::vector<double> cum(n);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t r = 0; r < out.size(); ++r) {
    fill(r, cum.data());
    double total = 0;
    for (std::size_t e = 0; e < n; ++e) {
      if (!(cum[e] >= 0) || std::isinf(cum[e]))
        throw Error(std::string(op) + ": row " + std::to_string(r) + ", entry " + std::to_string(e) +
                    " is " + std::to_string(cum[e]) + " (negative, NaN or infinite)");
      cum[e] = total += cum[e];
    }
    if (!(total > 0) || std::isinf(total))
      throw Error(std::string(op) + ": row " + std::to_string(r) + " sums to " + std::to_string(total) +
                  " (all zero, or too large)");
    // The first entry whose cumulative weight exceeds u: never one of weight 0.
    std::size_t e = std::upper_bound(cum.begin(), cum.end(), unit(rng) * total) - cum.begin();
    if (e == n)  // u rounded up to the total: the last entry of positive weight
      for (e = n - 1; e > 0 && cum[e] == cum[e - 1];) --e;
    out.data()[r] = static_cast<std::int64_t>(e);
  }
  return out;
}

}  // namespace

template <class T>
Tensor<std::int64_t> argmax(const Tensor<T>& x, int axis_arg) {
  const std::size_t axis = normalize_axis("argmax", axis_arg, x.dimension());
  const Shape shape = to_shape(x.shape());
  if (shape[axis] == 0)
    throw Error("argmax: axis " + std::to_string(axis_arg) + " of shape " + shape_str(shape) + " is empty");
  const Lanes l(shape, axis);
  Shape out_shape = shape;
  out_shape.erase(out_shape.begin() + axis);
  Tensor<std::int64_t> out = Tensor<std::int64_t>::from_shape(out_shape);
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t i = 0; i < l.inner; ++i) {
      const T* v = x.data() + o * l.n * l.inner + i;
      std::size_t best = 0;
      for (std::size_t e = 1; e < l.n; ++e)
        if (above(v[e * l.inner], v[best * l.inner])) best = e;
      out.data()[o * l.inner + i] = static_cast<std::int64_t>(best);
    }
  return out;
}

template <class T>
TopK<T> topk(const Tensor<T>& x, std::size_t k, int axis_arg) {
  const std::size_t axis = normalize_axis("topk", axis_arg, x.dimension());
  const Shape shape = to_shape(x.shape());
  if (k > shape[axis])
    throw Error("topk: k = " + std::to_string(k) + " is larger than extent " +
                std::to_string(shape[axis]) + " of axis " + std::to_string(axis_arg) + " of shape " +
                shape_str(shape));
  const Lanes l(shape, axis);
  Shape out_shape = shape;
  out_shape[axis] = k;
  TopK<T> out{Tensor<T>::from_shape(out_shape), Tensor<std::int64_t>::from_shape(out_shape)};
  std::vector<std::size_t> order(l.n);
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t i = 0; i < l.inner; ++i) {
      const T* v = x.data() + o * l.n * l.inner + i;
      std::iota(order.begin(), order.end(), std::size_t(0));
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::size_t a, std::size_t b) {
        const T va = v[a * l.inner], vb = v[b * l.inner];
        return above(va, vb) || (!above(vb, va) && a < b);
      });
      for (std::size_t j = 0; j < k; ++j) {
        const std::size_t at = (o * k + j) * l.inner + i;
        out.values.data()[at] = v[order[j] * l.inner];
        out.indices.data()[at] = static_cast<std::int64_t>(order[j]);
      }
    }
  return out;
}

template <class T>
double accuracy(const Tensor<T>& scores, const IdList& labels, std::optional<std::int64_t> ignore_index) {
  if (scores.dimension() < 1) throw Error("accuracy: scores must have a class axis, got a scalar");
  const std::int64_t classes = static_cast<std::int64_t>(scores.shape().back());
  const Tensor<std::int64_t> best = argmax(scores, -1);
  if (labels.size() != best.size())
    throw Error("accuracy: " + std::to_string(labels.size()) + " labels for scores " +
                shape_str(scores.shape()) + " (" + std::to_string(best.size()) + " rows)");
  const std::int64_t* t = labels.data("accuracy");
  std::size_t counted = 0, correct = 0;
  for (std::size_t r = 0; r < best.size(); ++r) {
    if (ignore_index && t[r] == *ignore_index) continue;
    if (t[r] < 0 || t[r] >= classes)
      throw Error("accuracy: label " + std::to_string(t[r]) + " at row " + std::to_string(r) +
                  " is not a class in [0, " + std::to_string(classes) + ")");
    ++counted;
    correct += best.data()[r] == t[r];
  }
  if (counted == 0)
    throw Error(best.size() == 0 ? std::string("accuracy: no rows to score")
                                 : "accuracy: all " + std::to_string(best.size()) +
                                       " labels equal ignore_index " + std::to_string(*ignore_index) +
                                       ": nothing to score");
  return double(correct) / double(counted);
}

template <class T>
Tensor<std::int64_t> multinomial(const Tensor<T>& probs, Rng& rng) {
  const std::size_t n = probs.dimension() ? probs.shape().back() : 0;
  return draw_rows("multinomial", to_shape(probs.shape()), rng, [&](std::size_t r, double* w) {
    std::copy_n(probs.data() + r * n, n, w);
  });
}

template <class T>
Tensor<std::int64_t> sample(const Tensor<T>& logits, Rng& rng, double temperature) {
  if (!(temperature > 0) || std::isinf(temperature))
    throw Error("sample: temperature " + std::to_string(temperature) +
                " must be positive and finite (for the greedy choice call argmax)");
  const std::size_t n = logits.dimension() ? logits.shape().back() : 0;
  return draw_rows("sample", to_shape(logits.shape()), rng, [&](std::size_t r, double* w) {
    const T* x = logits.data() + r * n;
    double m = -INFINITY;
    for (std::size_t e = 0; e < n; ++e) {
      if (std::isnan(x[e]) || x[e] == INFINITY)
        throw Error("sample: row " + std::to_string(r) + ", logit " + std::to_string(e) + " is " +
                    std::to_string(x[e]));
      m = std::max(m, double(x[e]));
    }
    if (m == -INFINITY) throw Error("sample: row " + std::to_string(r) + " has no finite logit");
    for (std::size_t e = 0; e < n; ++e) w[e] = std::exp((double(x[e]) - m) / temperature);
  });
}

#define TG_INSTANTIATE(T)                                                                        \
  template Tensor<std::int64_t> argmax(const Tensor<T>&, int);                                   \
  template TopK<T> topk(const Tensor<T>&, std::size_t, int);                                     \
  template double accuracy(const Tensor<T>&, const IdList&, std::optional<std::int64_t>);        \
  template Tensor<std::int64_t> multinomial(const Tensor<T>&, Rng&);                             \
  template Tensor<std::int64_t> sample(const Tensor<T>&, Rng&, double);
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)

}  // namespace tg

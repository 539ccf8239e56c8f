#include <tapegrad/autograd/ops/loss.hpp>

#include <cmath>
#include <limits>

#include <xtensor/xbroadcast.hpp>

#include <tapegrad/autograd/op.hpp>
#include <tapegrad/autograd/ops/shape.hpp>

namespace tg {
namespace {

// a seen as rows of `n` along `axis`: element (o, e, i) at (o*n + e)*inner + i.
struct Rows {
  std::size_t outer = 1, n = 1, inner = 1;
};

template <class T>
Rows rows_of(const char* op, const Var<T>& a, int axis_arg) {
  const std::size_t axis = normalize_axis(op, axis_arg, a.dim());
  Rows r;
  for (std::size_t i = 0; i < a.dim(); ++i) {
    if (i < axis) r.outer *= a.shape()[i];
    if (i > axis) r.inner *= a.shape()[i];
  }
  r.n = a.shape()[axis];
  return r;
}

// Writes softmax (or log-softmax) of every row of x into y; stable because
// the row maximum is subtracted first. With `keep` (laid out as x), only the
// entries where it is nonzero take part; the others, and every entry of a
// row with none kept, get probability 0 (softmax only).
template <class T>
void softmax_rows(const T* x, T* y, const Rows& r, bool log_space, const T* keep = nullptr) {
  auto kept = [keep](std::size_t k) { return !keep || keep[k] != T(0); };
  for (std::size_t o = 0; o < r.outer; ++o)
    for (std::size_t i = 0; i < r.inner; ++i) {
      const std::size_t base = o * r.n * r.inner + i;
      T m = -std::numeric_limits<T>::infinity();
      bool any = false;
      for (std::size_t e = 0; e < r.n; ++e)
        if (kept(base + e * r.inner)) {
          m = any ? std::max(m, x[base + e * r.inner]) : x[base + e * r.inner];
          any = true;
        }
      T s = 0;
      for (std::size_t e = 0; e < r.n; ++e)
        if (kept(base + e * r.inner)) s += std::exp(x[base + e * r.inner] - m);
      const T log_s = std::log(s);
      for (std::size_t e = 0; e < r.n; ++e) {
        const std::size_t k = base + e * r.inner;
        const T z = x[k] - m;
        y[k] = !kept(k) ? T(0) : log_space ? z - log_s : std::exp(z - log_s);
      }
    }
}

// Normaliser of a weighted mean: the weights' sum (0 means "nothing counts").
template <class T>
T weight_total(const char* op, const std::vector<T>& w, std::size_t n) {
  if (w.empty()) return T(n);
  if (w.size() != n)
    throw Error(std::string(op) + ": " + std::to_string(w.size()) + " weights for " +
                std::to_string(n) + " entries");
  T total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(w[i] >= 0)) throw Error(std::string(op) + ": weight " + std::to_string(i) + " is negative or NaN");
    total += w[i];
  }
  return total;
}

}  // namespace

namespace {

// softmax and masked_softmax: keep is null, or a's shape.
template <class T>
Var<T> softmax_op(const char* name, const Var<T>& a, int axis, const T* keep) {
  OpScope<T> op(name, {&a});
  const Rows r = rows_of(name, a, axis);
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  softmax_rows(a.value().data(), out.data(), r, false, keep);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.save(y), r] {  // da from y alone
    T* ga = a.grad_sink().zeroed();
    const T *p = y.value().data(), *dy = y.grad().data();
    for (std::size_t o = 0; o < r.outer; ++o)
      for (std::size_t i = 0; i < r.inner; ++i) {
        const std::size_t base = o * r.n * r.inner + i;
        T dot = 0;
        for (std::size_t e = 0; e < r.n; ++e) dot += dy[base + e * r.inner] * p[base + e * r.inner];
        for (std::size_t e = 0; e < r.n; ++e) {
          const std::size_t k = base + e * r.inner;
          ga[k] += p[k] * (dy[k] - dot);
        }
      }
  });
  return y;
}

}  // namespace

template <class T>
Var<T> softmax(const Var<T>& a, int axis) {
  return softmax_op("softmax", a, axis, static_cast<const T*>(nullptr));
}

template <class T>
Var<T> masked_softmax(const Var<T>& a, const tensor_arg_t<T>& mask, int axis) {
  if (to_shape(broadcast_shape("masked_softmax", mask.shape(), a.shape())) != to_shape(a.shape()))
    throw Error("masked_softmax: mask " + shape_str(mask.shape()) + " does not broadcast to " +
                shape_str(a.shape()));
  const Tensor<T> keep = xt::broadcast(mask, a.shape());
  return softmax_op("masked_softmax", a, axis, keep.data());
}

template <class T>
Var<T> log_softmax(const Var<T>& a, int axis) {
  OpScope<T> op("log_softmax", {&a});
  const Rows r = rows_of("log_softmax", a, axis);
  Tensor<T> out = Tensor<T>::from_shape(a.shape());
  softmax_rows(a.value().data(), out.data(), r, true);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.input(a), y = op.save(y), r] {  // da from y alone
    T* ga = a.grad_sink().zeroed();
    const T *ly = y.value().data(), *dy = y.grad().data();
    for (std::size_t o = 0; o < r.outer; ++o)
      for (std::size_t i = 0; i < r.inner; ++i) {
        const std::size_t base = o * r.n * r.inner + i;
        T total = 0;
        for (std::size_t e = 0; e < r.n; ++e) total += dy[base + e * r.inner];
        for (std::size_t e = 0; e < r.n; ++e) {
          const std::size_t k = base + e * r.inner;
          ga[k] += dy[k] - std::exp(ly[k]) * total;
        }
      }
  });
  return y;
}

template <class T>
Var<T> cross_entropy(const Var<T>& logits, const IdList& target_ids, const std::vector<T>& row_weights,
                     std::optional<std::int64_t> ignore_index) {
  OpScope<T> op("cross_entropy", {&logits});
  if (logits.dim() < 1) throw Error("cross_entropy: logits must have a class axis, got a scalar");
  const std::size_t classes = logits.shape().back();
  const std::size_t rows = logits.size() / std::max<std::size_t>(classes, 1);
  if (target_ids.size() != rows)
    throw Error("cross_entropy: " + std::to_string(target_ids.size()) + " targets for logits " +
                shape_str(logits.shape()) + " (" + std::to_string(rows) + " rows)");
  const std::int64_t* t = target_ids.data("cross_entropy");
  std::vector<std::int64_t> targets(t, t + rows);
  // An ignored row is a row of weight 0.
  T total = weight_total("cross_entropy", row_weights, rows);
  std::vector<T> weights = row_weights;
  if (ignore_index) {
    for (std::size_t i = 0; i < rows; ++i)
      if (targets[i] == *ignore_index) {
        if (weights.empty()) weights.assign(rows, T(1));
        weights[i] = 0;
      }
    total = weight_total("cross_entropy", weights, rows);
  }
  for (std::size_t i = 0; i < rows; ++i)
    if ((weights.empty() || weights[i] != 0) &&
        (targets[i] < 0 || static_cast<std::size_t>(targets[i]) >= classes))
      throw Error("cross_entropy: target " + std::to_string(targets[i]) + " at row " +
                  std::to_string(i) + " is not a class in [0, " + std::to_string(classes) + ")");
  // Softmax probabilities are kept for the backward.
  Tensor<T> prob = Tensor<T>::from_shape(logits.shape());
  softmax_rows(logits.value().data(), prob.data(), Rows{rows, classes, 1}, true);
  T loss = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const T w = weights.empty() ? T(1) : weights[i];
    if (w != 0) loss -= w * prob.data()[i * classes + targets[i]];
  }
  for (std::size_t i = 0; i < prob.size(); ++i) prob.data()[i] = std::exp(prob.data()[i]);
  Tensor<T> out = Tensor<T>::from_shape(Shape{});
  out() = total > 0 ? loss / total : T(0);
  Var<T> y = op.result(std::move(out));
  // The backward reads the probabilities it keeps, not the logits.
  op.backward(y, [x = op.input(logits), y = op.output(y), prob = std::move(prob), targets = std::move(targets),
                  weights = std::move(weights), total, rows, classes] {
    if (total <= 0) return;
    T* gx = x.grad_sink().zeroed();
    const T g = y.grad()() / total;
    for (std::size_t i = 0; i < rows; ++i) {
      const T w = weights.empty() ? T(1) : weights[i];
      if (w == 0) continue;
      const T* p = prob.data() + i * classes;
      T* gi = gx + i * classes;
      for (std::size_t c = 0; c < classes; ++c) gi[c] += g * w * p[c];
      gi[targets[i]] -= g * w;
    }
  });
  return y;
}

template <class T>
Var<T> bce_with_logits(const Var<T>& logits, const Tensor<T>& targets,
                       const std::vector<T>& weights) {
  OpScope<T> op("bce_with_logits", {&logits});
  if (targets.shape() != logits.shape())
    throw Error("bce_with_logits: targets " + shape_str(targets.shape()) + " differ from logits " +
                shape_str(logits.shape()));
  const std::size_t n = logits.size();
  const T total = weight_total("bce_with_logits", weights, n);
  const T *x = logits.value().data(), *t = targets.data();
  T loss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T w = weights.empty() ? T(1) : weights[i];
    if (w != 0)
      loss += w * (std::max(x[i], T(0)) - x[i] * t[i] + std::log1p(std::exp(-std::abs(x[i]))));
  }
  Tensor<T> out = Tensor<T>::from_shape(Shape{});
  out() = total > 0 ? loss / total : T(0);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [x = op.save(logits), y = op.output(y), targets, weights, total, n] {
    if (total <= 0) return;
    T* gx = x.grad_sink().zeroed();
    const T g = y.grad()() / total;
    const T *xv = x.value().data(), *t = targets.data();
    for (std::size_t i = 0; i < n; ++i) {
      const T w = weights.empty() ? T(1) : weights[i];
      gx[i] += g * w * (T(1) / (T(1) + std::exp(-xv[i])) - t[i]);
    }
  });
  return y;
}

template <class T>
Var<T> mse(const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("mse", {&a, &b});
  if (a.shape() != b.shape())
    throw Error("mse: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) + " differ");
  if (a.size() == 0) throw Error("mse: inputs have no elements");
  const std::size_t n = a.size();
  T s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T d = a.value().data()[i] - b.value().data()[i];
    s += d * d;
  }
  Tensor<T> out = Tensor<T>::from_shape(Shape{});
  out() = s / T(n);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [a = op.save(a), b = op.save(b), y = op.output(y), n] {
    const T g = T(2) * y.grad()() / T(n);
    if (a.requires_grad()) a.accumulate((a.value() - b.value()) * g);
    if (b.requires_grad()) b.accumulate((b.value() - a.value()) * g);
  });
  return y;
}

#define TG_INSTANTIATE(T)                                                                       \
  template Var<T> softmax(const Var<T>&, int);                                                  \
  template Var<T> log_softmax(const Var<T>&, int);                                              \
  template Var<T> masked_softmax(const Var<T>&, const Tensor<T>&, int);                         \
  template Var<T> cross_entropy(const Var<T>&, const IdList&, const std::vector<T>&,           \
                                std::optional<std::int64_t>);                                   \
  template Var<T> bce_with_logits(const Var<T>&, const Tensor<T>&, const std::vector<T>&);      \
  template Var<T> mse(const Var<T>&, const Var<T>&);
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)

}  // namespace tg

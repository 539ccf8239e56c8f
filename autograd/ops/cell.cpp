#include <tapegrad/autograd/ops/cell.hpp>

#include <algorithm>

#include <tapegrad/backend/activation.hpp>
#include <tapegrad/backend/blas.hpp>
#include <tapegrad/backend/lstm.hpp>
#include <tapegrad/autograd/op.hpp>
#include <tapegrad/autograd/ops/linalg.hpp>
#include <tapegrad/autograd/ops/shape.hpp>

namespace tg {

template <class T>
Var<T> matmul_add(const Var<T>& c, const Var<T>& a, const Var<T>& b) {
  OpScope<T> op("matmul_add", {&c, &a, &b});
  if (a.dim() != 2 || b.dim() != 2 || c.dim() != 2 || a.shape()[1] != b.shape()[0] ||
      c.shape()[0] != a.shape()[0] || c.shape()[1] != b.shape()[1])
    throw Error("matmul_add: shapes " + shape_str(c.shape()) + " + " + shape_str(a.shape()) +
                " x " + shape_str(b.shape()) + " do not fit (need (m, n) + (m, k) x (k, n))");
  const int m = int(a.shape()[0]), k = int(a.shape()[1]), n = int(b.shape()[1]);
  Tensor<T> out = c.value();
  blas::gemm<T>(false, false, m, n, k, T(1), a.value().data(), b.value().data(), T(1), out.data());
  Var<T> y = op.result(std::move(out));
  op.backward(y, [c = op.input(c), a = op.save_if(b.requires_grad(), a), b = op.save_if(a.requires_grad(), b),
                  y = op.output(y), m, n, k] {
    matmul_backward(a, b, y.grad().data(), m, n, k);
    // Last, since dy is spent after this: c may take its buffer as is.
    if (c.requires_grad()) c.accumulate(std::move(y.grad()));
  });
  return y;
}

namespace {

// A leaf that takes no gradient and holds only zeros (an initial state).
template <class T>
bool zero_constant(const Var<T>& a) {
  if (a.requires_grad() || !a.node()->is_leaf()) return false;
  const T* v = a.value().data();
  return std::all_of(v, v + a.size(), [](T x) { return x == T(0); });
}

// The backward of a step's product a b. When a was a constant of zeros the
// product was skipped: b still gets a gradient, of zeros, as it would have.
template <class T>
void step_product_backward(const ValueRef<T>& a, const ValueRef<T>& b, const T* dz, int m, int n, int k,
                           bool zero_a) {
  if (!zero_a) matmul_backward(a, b, dz, m, n, k);
  else if (b.requires_grad() && !b.has_grad()) b.grad_sink().zeroed();
}

// y = src[rows first .. first + m) + a b, src read as (rows, n): the step
// of a (T, m, n) sequence or the rows of a packed (N, n) one; with
// `tanh_out`, y = tanh of that (an Elman step in one op).
template <class T>
Var<T> matmul_add_from(OpScope<T>& op, const Var<T>& src, std::size_t first, const Var<T>& a,
                       const Var<T>& b, bool tanh_out) {
  const int m = int(a.shape()[0]), k = int(a.shape()[1]), n = int(b.shape()[1]);
  const std::size_t step = std::size_t(m) * n, offset = first * std::size_t(n);
  Tensor<T> out = Tensor<T>::from_shape(Shape{std::size_t(m), std::size_t(n)});
  std::copy_n(src.value().data() + offset, step, out.data());
  // The first step of a sequence starts from a constant state of zeros: its
  // product, and its share of b's gradient, are zero (1/28 of an MNIST step).
  const bool zero_a = zero_constant(a);
  if (!zero_a)
    blas::gemm<T>(false, false, m, n, k, T(1), a.value().data(), b.value().data(), T(1), out.data());
  if (tanh_out) activation::tanh(out.data(), out.data(), step);
  Var<T> y = op.result(std::move(out));
  op.backward(y, [src = op.input(src), a = op.save_if(b.requires_grad(), a), b = op.save_if(a.requires_grad(), b),
                  y = op.save_if(tanh_out, y), offset, m, n, k, step, tanh_out, zero_a] {
    // dy is spent after this record: it becomes dz = dy (1 - y^2) in place.
    T* dz = y.grad().data();
    if (tanh_out) {
      const T* v = y.value().data();
      for (std::size_t i = 0; i < step; ++i) dz[i] *= T(1) - v[i] * v[i];
    }
    step_product_backward(a, b, dz, m, n, k, zero_a);
    // The steps of a sequence each cover their own rows of src's gradient.
    if (src.requires_grad()) src.accumulate_rows(offset, dz, step);
  });
  return y;
}

template <class T>
Var<T> seq_step(const char* op, const Var<T>& seq, std::size_t t, const Var<T>& a, const Var<T>& b,
                bool tanh_out) {
  OpScope<T> scope(op, {&seq, &a, &b});
  if (seq.dim() != 3 || a.dim() != 2 || b.dim() != 2 || t >= seq.shape()[0] ||
      a.shape()[1] != b.shape()[0] || seq.shape()[1] != a.shape()[0] ||
      seq.shape()[2] != b.shape()[1])
    throw Error(std::string(op) + ": step " + std::to_string(t) + " of " + shape_str(seq.shape()) +
                " + " + shape_str(a.shape()) + " x " + shape_str(b.shape()) +
                " do not fit (need (T, m, n) + (m, k) x (k, n), t < T)");
  return matmul_add_from(scope, seq, t * a.shape()[0], a, b, tanh_out);
}

template <class T>
Var<T> rows_step(const char* op, const Var<T>& packed, std::size_t first, const Var<T>& a,
                 const Var<T>& b, bool tanh_out) {
  OpScope<T> scope(op, {&packed, &a, &b});
  if (packed.dim() != 2 || a.dim() != 2 || b.dim() != 2 || a.shape()[1] != b.shape()[0] ||
      first + a.shape()[0] > packed.shape()[0] || packed.shape()[1] != b.shape()[1])
    throw Error(std::string(op) + ": rows " + std::to_string(first) + ".." +
                std::to_string(first + a.shape()[0]) + " of " + shape_str(packed.shape()) + " + " +
                shape_str(a.shape()) + " x " + shape_str(b.shape()) +
                " do not fit (need (N, n) + (m, k) x (k, n), first + m <= N)");
  return matmul_add_from(scope, packed, first, a, b, tanh_out);
}

}  // namespace

template <class T>
Var<T> matmul_add(const Var<T>& seq, std::size_t t, const Var<T>& a, const Var<T>& b) {
  return seq_step("matmul_add", seq, t, a, b, false);
}

template <class T>
Var<T> tanh_matmul_add(const Var<T>& seq, std::size_t t, const Var<T>& a, const Var<T>& b) {
  return seq_step("tanh_matmul_add", seq, t, a, b, true);
}

template <class T>
Var<T> matmul_add_rows(const Var<T>& packed, std::size_t first, const Var<T>& a, const Var<T>& b) {
  return rows_step("matmul_add_rows", packed, first, a, b, false);
}

template <class T>
Var<T> tanh_matmul_add_rows(const Var<T>& packed, std::size_t first, const Var<T>& a, const Var<T>& b) {
  return rows_step("tanh_matmul_add_rows", packed, first, a, b, true);
}

template <class T>
Var<T> matmul_add_gather(const Var<T>& table, const std::int64_t* ids, const Var<T>& a, const Var<T>& b,
                         std::int64_t no_grad_index) {
  OpScope<T> op("matmul_add_gather", {&table, &a, &b});
  if (table.dim() != 2 || a.dim() != 2 || b.dim() != 2 || a.shape()[1] != b.shape()[0] ||
      table.shape()[1] != b.shape()[1])
    throw Error("matmul_add_gather: rows of " + shape_str(table.shape()) + " + " + shape_str(a.shape()) +
                " x " + shape_str(b.shape()) + " do not fit (need (V, n) + (m, k) x (k, n))");
  const int m = int(a.shape()[0]), k = int(a.shape()[1]), n = int(b.shape()[1]);
  const std::size_t rows = table.shape()[0];
  for (int i = 0; i < m; ++i)
    if (ids[i] < 0 || std::size_t(ids[i]) >= rows)
      throw Error("matmul_add_gather: id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                  " is out of range for " + std::to_string(rows) + " rows");
  Tensor<T> out = Tensor<T>::from_shape(Shape{std::size_t(m), std::size_t(n)});
  for (int i = 0; i < m; ++i)
    std::copy_n(table.value().data() + ids[i] * n, n, out.data() + std::size_t(i) * n);
  const bool zero_a = zero_constant(a);
  if (!zero_a)
    blas::gemm<T>(false, false, m, n, k, T(1), a.value().data(), b.value().data(), T(1), out.data());
  Var<T> y = op.result(std::move(out));
  if (!op.requires_grad()) return y;  // evaluation: no copy of the ids
  op.backward(y, [table = op.input(table), a = op.save_if(b.requires_grad(), a), b = op.save_if(a.requires_grad(), b),
                  y = op.output(y), ids = std::vector<std::int64_t>(ids, ids + m), m, n, k, zero_a, no_grad_index] {
    const T* dz = y.grad().data();
    step_product_backward(a, b, dz, m, n, k, zero_a);
    if (table.requires_grad()) table.accumulate_rows(ids.data(), ids.size(), dz, no_grad_index);
  });
  return y;
}

template <class T>
Var<T> affine(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  OpScope<T> op("affine", {&x, &w, &b});
  if (x.dim() < 1 || w.dim() != 2 || b.dim() != 1 || x.shape().back() != w.shape()[0] ||
      b.shape()[0] != w.shape()[1])
    throw Error("affine: shapes " + shape_str(x.shape()) + " x " + shape_str(w.shape()) + " + " +
                shape_str(b.shape()) + " do not fit (need (..., k) x (k, n) + (n,))");
  const int k = int(w.shape()[0]), n = int(w.shape()[1]);
  const int m = int(x.size() / std::max<std::size_t>(1, x.shape().back()));
  Shape out_shape = to_shape(x.shape());
  out_shape.back() = std::size_t(n);
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  // In blocks of rows: each block's bias rows are still in cache when the
  // product adds into them, so the output crosses memory once, not thrice.
  constexpr int kBlock = 192;
  for (int r0 = 0; r0 < m; r0 += kBlock) {
    const int rows = std::min(kBlock, m - r0);
    T* block = out.data() + std::size_t(r0) * n;
    for (int r = 0; r < rows; ++r) std::copy_n(b.value().data(), n, block + std::size_t(r) * n);
    blas::gemm<T>(false, false, rows, n, k, T(1), x.value().data() + std::size_t(r0) * k,
                  w.value().data(), T(1), block);
  }
  Var<T> y = op.result(std::move(out));
  op.backward(y, [x = op.save_if(w.requires_grad(), x), w = op.save_if(x.requires_grad(), w), b = op.input(b),
                  y = op.output(y), m, n, k] {
    const T* dy = y.grad().data();
    matmul_backward(x, w, dy, m, n, k);
    if (b.requires_grad()) {
      T* db = b.grad_sink().zeroed();
      for (int r = 0; r < m; ++r)
        for (int j = 0; j < n; ++j) db[j] += dy[std::size_t(r) * n + j];
    }
  });
  return y;
}

template <class T>
std::pair<Var<T>, Var<T>> lstm_cell(const Var<T>& gates, const Var<T>& c_prev, bool g_tanh,
                                    bool h_tanh) {
  OpScope<T> op("lstm_cell", {&gates, &c_prev});
  if (c_prev.dim() != 2 || gates.dim() != 2 || gates.shape()[0] != c_prev.shape()[0] ||
      gates.shape()[1] != 4 * c_prev.shape()[1])
    throw Error("lstm_cell: gates " + shape_str(gates.shape()) + " and cell state " +
                shape_str(c_prev.shape()) + " do not fit (need (B, 4H) and (B, H))");
  const std::size_t B = c_prev.shape()[0], H = c_prev.shape()[1];
  // act holds the activated gates [i f g o] and is kept for the backward,
  // with hc = h_act(c); neither is made when no backward will run.
  const bool keep = op.requires_grad();
  Tensor<T> act = Tensor<T>::from_shape(keep ? to_shape(gates.shape()) : Shape{0});
  Tensor<T> c = Tensor<T>::from_shape(c_prev.shape());
  Tensor<T> h = Tensor<T>::from_shape(c_prev.shape());
  Tensor<T> hc = Tensor<T>::from_shape(keep ? to_shape(c_prev.shape()) : Shape{0});
  lstm::forward<T>({gates.value().data(), c_prev.value().data(), keep ? act.data() : nullptr, c.data(),
                    keep ? hc.data() : nullptr, h.data(), B, H, g_tanh, h_tanh});
  Var<T> h_var = op.result(std::move(h));
  Var<T> c_var = op.result(std::move(c));
  op.backward(h_var, c_var, [gates = op.input(gates), c_prev = op.save(c_prev), h = op.output(h_var),
                             c = op.output(c_var), act = std::move(act), hc = std::move(hc), B, H,
                             g_tanh, h_tanh] {
    // A first contribution is written, later ones added: the gates usually
    // feed nothing else, so this saves zero-filling a (B, 4H) buffer per step.
    bool add_g = false, add_c = false;
    T* dgates = nullptr;
    T* dc_prev = nullptr;
    if (gates.requires_grad()) {
      const GradSink<T> s = gates.grad_sink();
      add_g = s.beta != T(0);
      dgates = s.buffer.data();
    }
    if (c_prev.requires_grad()) {
      const GradSink<T> s = c_prev.grad_sink();
      add_c = s.beta != T(0);
      dc_prev = s.buffer.data();
    }
    // A missing output gradient reads as a row of zeros, and a missing input
    // gradient is written to scratch: one branch-free loop the compiler
    // vectorises (the branchy per-element version was 4x slower).
    std::vector<T> zeros(dgates && dc_prev && h.has_grad() && c.has_grad() ? 0 : 6 * H, T(0));
    const T* dh = h.has_grad() ? h.grad().data() : nullptr;
    const T* dc_out = c.has_grad() ? c.grad().data() : nullptr;
    lstm::backward<T>({act.data(), hc.data(), c_prev.value().data(), dh, dc_out, dgates, dc_prev,
                       zeros.data(), B, H, T(g_tanh), T(h_tanh)},
                      add_g, add_c);
  });
  return {h_var, c_var};
}

template <class T>
Var<T> gru_cell(const Var<T>& seq, std::size_t t, const Var<T>& hh, const Var<T>& h_prev) {
  OpScope<T> op("gru_cell", {&seq, &hh, &h_prev});
  if (seq.dim() != 3 || hh.dim() != 2 || h_prev.dim() != 2 || t >= seq.shape()[0] ||
      seq.shape()[1] != h_prev.shape()[0] || seq.shape()[2] != 3 * h_prev.shape()[1] ||
      hh.shape()[0] != h_prev.shape()[0] || hh.shape()[1] != 3 * h_prev.shape()[1])
    throw Error("gru_cell: step " + std::to_string(t) + " of " + shape_str(seq.shape()) + ", " +
                shape_str(hh.shape()) + " and state " + shape_str(h_prev.shape()) +
                " do not fit (need (T, B, 3H), (B, 3H), (B, H), t < T)");
  const std::size_t B = h_prev.shape()[0], H = h_prev.shape()[1];
  // act holds [r z n] per row, kept for the backward.
  Tensor<T> act = Tensor<T>::from_shape(Shape{B, 3 * H});
  Tensor<T> h = Tensor<T>::from_shape(h_prev.shape());
  std::vector<T> pre(3 * H);
  for (std::size_t b = 0; b < B; ++b) {
    const T* x = seq.value().data() + (t * B + b) * 3 * H;
    const T* g = hh.value().data() + b * 3 * H;
    T* a = act.data() + b * 3 * H;
    for (std::size_t j = 0; j < 2 * H; ++j) pre[j] = x[j] + g[j];
    activation::sigmoid(pre.data(), a, 2 * H);  // r, z
    for (std::size_t j = 0; j < H; ++j) pre[2 * H + j] = x[2 * H + j] + a[j] * g[2 * H + j];
    activation::tanh(pre.data() + 2 * H, a + 2 * H, H);  // n
    const T* hp = h_prev.value().data() + b * H;
    T* hb = h.data() + b * H;
    for (std::size_t j = 0; j < H; ++j) hb[j] = a[2 * H + j] + a[H + j] * (hp[j] - a[2 * H + j]);
  }
  Var<T> y = op.result(std::move(h));
  op.backward(y, [seq = op.input(seq), hh = op.save(hh), h_prev = op.save(h_prev), y = op.output(y),
                  act = std::move(act), t, B, H] {
    bool add_hh = false;
    T* dseq = seq.requires_grad() ? seq.grad_sink().zeroed() + t * B * 3 * H : nullptr;
    T* dhh = nullptr;
    if (hh.requires_grad()) {
      const GradSink<T> s = hh.grad_sink();  // written below when fresh
      add_hh = s.beta != T(0);
      dhh = s.buffer.data();
    }
    T* dhp = h_prev.requires_grad() ? h_prev.grad_sink().zeroed() : nullptr;
    const T* dy = y.grad().data();
    const T* hh_value = hh.value().data();
    const T* h_prev_value = h_prev.value().data();
    for (std::size_t b = 0; b < B; ++b) {
      const T* a = act.data() + b * 3 * H;
      const T* g = hh_value + b * 3 * H;
      const T* hp = h_prev_value + b * H;
      for (std::size_t j = 0; j < H; ++j) {
        const T r = a[j], z = a[H + j], n = a[2 * H + j], d = dy[b * H + j];
        const T dn_pre = d * (T(1) - z) * (T(1) - n * n);
        const T dz_pre = d * (hp[j] - n) * z * (T(1) - z);
        const T dr_pre = dn_pre * g[2 * H + j] * r * (T(1) - r);
        if (dseq) {
          T* ds = dseq + b * 3 * H;
          ds[j] += dr_pre;
          ds[H + j] += dz_pre;
          ds[2 * H + j] += dn_pre;
        }
        if (dhh) {
          T* dg = dhh + b * 3 * H;
          const T dhn = dn_pre * r;
          if (add_hh) {
            dg[j] += dr_pre;
            dg[H + j] += dz_pre;
            dg[2 * H + j] += dhn;
          } else {
            dg[j] = dr_pre;
            dg[H + j] = dz_pre;
            dg[2 * H + j] = dhn;
          }
        }
        if (dhp) dhp[b * H + j] += d * z;
      }
    }
  });
  return y;
}

template Var<float> gru_cell(const Var<float>&, std::size_t, const Var<float>&, const Var<float>&);
template Var<double> gru_cell(const Var<double>&, std::size_t, const Var<double>&, const Var<double>&);
template Var<float> matmul_add(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<float> matmul_add(const Var<float>&, std::size_t, const Var<float>&, const Var<float>&);
template Var<float> matmul_add_rows(const Var<float>&, std::size_t, const Var<float>&, const Var<float>&);
template Var<float> tanh_matmul_add(const Var<float>&, std::size_t, const Var<float>&, const Var<float>&);
template Var<float> tanh_matmul_add_rows(const Var<float>&, std::size_t, const Var<float>&, const Var<float>&);
template Var<double> matmul_add(const Var<double>&, std::size_t, const Var<double>&, const Var<double>&);
template Var<double> matmul_add_rows(const Var<double>&, std::size_t, const Var<double>&, const Var<double>&);
template Var<double> tanh_matmul_add(const Var<double>&, std::size_t, const Var<double>&, const Var<double>&);
template Var<double> tanh_matmul_add_rows(const Var<double>&, std::size_t, const Var<double>&, const Var<double>&);
template Var<float> matmul_add_gather(const Var<float>&, const std::int64_t*, const Var<float>&,
                                     const Var<float>&, std::int64_t);
template Var<double> matmul_add_gather(const Var<double>&, const std::int64_t*, const Var<double>&,
                                      const Var<double>&, std::int64_t);
template Var<float> affine(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> affine(const Var<double>&, const Var<double>&, const Var<double>&);
template Var<double> matmul_add(const Var<double>&, const Var<double>&, const Var<double>&);
template std::pair<Var<float>, Var<float>> lstm_cell(const Var<float>&, const Var<float>&, bool, bool);
template std::pair<Var<double>, Var<double>> lstm_cell(const Var<double>&, const Var<double>&, bool, bool);

}  // namespace tg

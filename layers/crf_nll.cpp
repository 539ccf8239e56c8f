// crf_nll: the CRF's loss as one fused op (layers/crf.hpp has the math).
// The recursions run in double, each step one (B, C) x (C, C) product of
// row-shifted exponentials: a log-space logsumexp per (b, i, j) would cost
// B C^2 exponentials per step, this costs B C.
#include <tapegrad/layers/crf.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>

#include <tapegrad/autograd/op.hpp>
#include <tapegrad/backend/blas.hpp>

namespace tg {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// What the forward computes and the backward reads, all (T, B, C) row-major.
struct CrfWork {
  std::size_t steps = 0, batch = 0, tags = 0;
  std::vector<double> e, alpha, log_z, exp_a, start, end;
  std::vector<std::size_t> lengths;
  std::vector<std::int64_t> gold;
  double a_shift = 0;  // exp_a = exp(A - a_shift), 0 where forbidden
  std::size_t at(std::size_t t, std::size_t b) const { return (t * batch + b) * tags; }
};

template <class T>
std::vector<double> as_double(const Tensor<T>& x) {
  return std::vector<double>(x.data(), x.data() + x.size());
}

// x = exp(x) or log(x) in place, vectorised (xsimd): the recursions' cost
// is these and the products.
void exp_inplace(double* x, std::size_t n) {
  auto a = xt::adapt(x, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
  xt::noalias(a) = xt::exp(a);
}
void log_inplace(double* x, std::size_t n) {
  auto a = xt::adapt(x, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
  xt::noalias(a) = xt::log(a);
}

double row_max(const double* x, std::size_t n) {
  double m = *std::max_element(x, x + n);
  return std::isfinite(m) ? m : 0;  // a row of -inf stays -inf through exp(x - 0) = 0
}

// out[b, :] = shift_b + log(exp(in[b, :] - m_b) M) where `pre` adds to `in`
// first (the backward's e + beta); M is exp_a or its transpose.
void step_product(const CrfWork& w, const double* in, const double* pre, bool transpose, double* out) {
  const std::size_t B = w.batch, C = w.tags;
  std::vector<double> p(B * C), q(B * C), shift(B);
  for (std::size_t b = 0; b < B; ++b) {
    double* row = p.data() + b * C;
    for (std::size_t j = 0; j < C; ++j) row[j] = in[b * C + j] + (pre ? pre[b * C + j] : 0);
    shift[b] = row_max(row, C);
    for (std::size_t j = 0; j < C; ++j) row[j] -= shift[b];
  }
  exp_inplace(p.data(), B * C);
  blas::gemm<double>(false, transpose, int(B), int(C), int(C), 1.0, p.data(), w.exp_a.data(), 0.0, q.data());
  log_inplace(q.data(), B * C);
  for (std::size_t i = 0; i < B * C; ++i) out[i] = shift[i / C] + w.a_shift + q[i];
}

void forward_algorithm(CrfWork& w) {
  const std::size_t B = w.batch, C = w.tags;
  w.alpha.assign(w.steps * B * C, kNegInf);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t j = 0; j < C; ++j) w.alpha[w.at(0, b) + j] = w.start[j] + w.e[w.at(0, b) + j];
  for (std::size_t t = 1; t < w.steps; ++t) {
    double* a = w.alpha.data() + w.at(t, 0);
    step_product(w, a - B * C, nullptr, false, a);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t j = 0; j < C; ++j)
        a[b * C + j] = t < w.lengths[b] ? a[b * C + j] + w.e[w.at(t, b) + j] : kNegInf;
  }
  w.log_z.assign(B, 0);
  std::vector<double> last(C);
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t j = 0; j < C; ++j) last[j] = w.alpha[w.at(w.lengths[b] - 1, b) + j] + w.end[j];
    const double m = row_max(last.data(), C);
    double s = 0;
    for (double v : last) s += std::exp(v - m);
    w.log_z[b] = m + std::log(s);
  }
}

// The gold path's score; a path the constraints forbid throws (its loss
// would be +inf).
double gold_score(const CrfWork& w, const std::vector<double>& a, std::size_t b) {
  const std::int64_t* y = w.gold.data();
  const std::size_t B = w.batch, L = w.lengths[b];
  double s = w.start[y[b]] + w.end[y[(L - 1) * B + b]];
  for (std::size_t t = 0; t < L; ++t) {
    s += w.e[w.at(t, b) + y[t * B + b]];
    if (t > 0 && w.exp_a[y[(t - 1) * B + b] * w.tags + y[t * B + b]] == 0)
      throw Error("crf_nll: sentence " + std::to_string(b) + " goes from tag " + std::to_string(y[(t - 1) * B + b]) +
                  " to tag " + std::to_string(y[t * B + b]) + " at step " + std::to_string(t) +
                  ", a transition the constraints forbid");
    if (t > 0) s += a[y[(t - 1) * B + b] * w.tags + y[t * B + b]];
  }
  if (!std::isfinite(w.start[y[b]]))
    throw Error("crf_nll: sentence " + std::to_string(b) + " starts with tag " + std::to_string(y[b]) +
                ", which the constraints forbid first");
  return s;
}

// beta_t[b, i]: log-sum of the scores after step t of the paths through tag i.
std::vector<double> backward_algorithm(const CrfWork& w) {
  const std::size_t B = w.batch, C = w.tags;
  std::vector<double> beta(w.steps * B * C);
  for (std::size_t t = w.steps; t-- > 0;) {
    double* bt = beta.data() + w.at(t, 0);
    if (t + 1 < w.steps) step_product(w, bt + B * C, w.e.data() + w.at(t + 1, 0), true, bt);
    for (std::size_t b = 0; b < B; ++b)
      if (t + 1 >= w.lengths[b]) std::copy(w.end.begin(), w.end.end(), bt + b * C);
  }
  return beta;
}

struct CrfGrads {
  std::vector<double> e, a, start, end;
};

// Marginals minus gold counts, times g = dy / B.
CrfGrads crf_gradients(const CrfWork& w, double g) {
  const std::size_t B = w.batch, C = w.tags;
  const std::vector<double> beta = backward_algorithm(w);
  CrfGrads d{std::vector<double>(w.e.size()), std::vector<double>(C * C), std::vector<double>(C),
             std::vector<double>(C)};
  // Exponents first (-inf: 0), then one vectorised exp per buffer.
  std::vector<double> p(B * C), u(B * C), v(B * C), m(C * C);
  for (std::size_t t = 0; t < w.steps; ++t) {
    for (std::size_t b = 0; b < B; ++b) {
      const std::size_t o = w.at(t, b), L = w.lengths[b];
      const bool live = t < L, edge = t > 0 && live;
      const double* prev = w.alpha.data() + (t > 0 ? w.at(t - 1, b) : 0);
      const double shift = edge ? row_max(prev, C) : 0;
      for (std::size_t j = 0; j < C; ++j) {
        p[b * C + j] = live ? w.alpha[o + j] + beta[o + j] - w.log_z[b] : kNegInf;
        u[b * C + j] = edge ? prev[j] - shift : kNegInf;
        v[b * C + j] = edge ? w.e[o + j] + beta[o + j] + shift + w.a_shift - w.log_z[b] : kNegInf;
      }
    }
    exp_inplace(p.data(), B * C);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t j = 0; j < C; ++j) {
        const double gp = g * p[b * C + j];
        d.e[w.at(t, b) + j] = gp;
        if (t == 0) d.start[j] += gp;
        if (t + 1 == w.lengths[b]) d.end[j] += gp;
      }
    if (t == 0) continue;
    exp_inplace(u.data(), B * C);
    exp_inplace(v.data(), B * C);
    blas::gemm<double>(true, false, int(C), int(C), int(B), g, u.data(), v.data(), 1.0, m.data());
  }
  for (std::size_t k = 0; k < C * C; ++k) d.a[k] = m[k] * w.exp_a[k];
  const std::int64_t* y = w.gold.data();
  for (std::size_t b = 0; b < B; ++b) {
    const std::size_t L = w.lengths[b];
    d.start[y[b]] -= g;
    d.end[y[(L - 1) * B + b]] -= g;
    for (std::size_t t = 0; t < L; ++t) {
      d.e[w.at(t, b) + y[t * B + b]] -= g;
      if (t > 0) d.a[y[(t - 1) * B + b] * C + y[t * B + b]] -= g;
    }
  }
  return d;
}

template <class T>
void add_into(const GradRef<T>& x, const std::vector<double>& d) {
  if (!x.requires_grad()) return;
  T* gx = x.grad_sink().zeroed();
  for (std::size_t i = 0; i < d.size(); ++i) gx[i] += T(d[i]);
}

}  // namespace

// Forbidden transitions as -inf scores, and exp(A - max allowed A).
template <class T>
CrfWork crf_setup(const Tensor<T>& a, const Tensor<T>& s, const Tensor<T>& n, const CrfConstraints& c) {
  CrfWork w;
  w.tags = s.size();
  w.start = as_double(s);
  w.end = as_double(n);
  std::vector<double> av = as_double(a);
  for (std::size_t k = 0; k < av.size(); ++k)
    if (!c.transition.empty() && !c.transition[k]) av[k] = kNegInf;
  for (std::size_t j = 0; j < w.tags; ++j)
    if (!c.start.empty() && !c.start[j]) w.start[j] = kNegInf;
  w.a_shift = row_max(av.data(), av.size());
  w.exp_a.resize(av.size());
  for (std::size_t k = 0; k < av.size(); ++k) w.exp_a[k] = std::exp(av[k] - w.a_shift);
  return w;
}

template <class T>
Var<T> crf_nll(const Var<T>& emissions, const Var<T>& transitions, const Var<T>& start, const Var<T>& end,
               const Tensor<std::int64_t>& tags, const std::vector<std::size_t>& lengths,
               const CrfConstraints& constraints) {
  OpScope<T> op("crf_nll", {&emissions, &transitions, &start, &end});
  detail::check_crf_shapes(to_shape(emissions.shape()), to_shape(transitions.shape()), to_shape(start.shape()),
                   to_shape(end.shape()), &tags, lengths, constraints);
  CrfWork w = crf_setup(transitions.value(), start.value(), end.value(), constraints);
  w.steps = emissions.shape()[0];
  w.batch = emissions.shape()[1];
  w.e = as_double(emissions.value());
  w.lengths = lengths;
  w.gold.assign(tags.data(), tags.data() + tags.size());
  forward_algorithm(w);
  std::vector<double> a_scores = as_double(transitions.value());
  double loss = 0;
  for (std::size_t b = 0; b < w.batch; ++b) loss += w.log_z[b] - gold_score(w, a_scores, b);
  Tensor<T> out = Tensor<T>::from_shape(Shape{});
  out() = T(loss / double(w.batch));
  Var<T> y = op.result(std::move(out));
  op.backward(y, [e = op.input(emissions), a = op.input(transitions), s = op.input(start), n = op.input(end),
                  y = op.output(y), w = std::move(w)] {
    const CrfGrads d = crf_gradients(w, double(y.grad()()) / double(w.batch));
    add_into(e, d.e);
    add_into(a, d.a);
    add_into(s, d.start);
    add_into(n, d.end);
  });
  return y;
}

template Var<float> crf_nll(const Var<float>&, const Var<float>&, const Var<float>&, const Var<float>&,
                            const Tensor<std::int64_t>&, const std::vector<std::size_t>&, const CrfConstraints&);
template Var<double> crf_nll(const Var<double>&, const Var<double>&, const Var<double>&, const Var<double>&,
                             const Tensor<std::int64_t>&, const std::vector<std::size_t>&,
                             const CrfConstraints&);

}  // namespace tg

#include <tapegrad/autograd/gradcheck.hpp>

#include <cmath>
#include <sstream>

#include <tapegrad/autograd/random.hpp>

namespace tg {

std::string GradcheckResult::report() const {
  std::ostringstream s;
  s << (ok ? "gradcheck passed" : "gradcheck FAILED") << " (";
  if (mode == GradcheckMode::jacobian)
    s << "full Jacobian: " << outputs << " outputs x " << elements_checked << " input elements = "
      << entries_checked << " entries";
  else
    s << "random projection of " << outputs << " outputs: " << elements_checked << " input elements";
  s << "; an entry passes when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|), atol "
    << atol << ", rtol " << rtol << "): max abs error " << max_abs_error << ", max rel error "
    << max_rel_error << "; worst at ";
  if (mode == GradcheckMode::jacobian) s << "output " << worst_output << ", ";
  s << "input " << worst_input << " element " << worst_index << " (analytic " << worst_analytic
    << ", numeric " << worst_numeric << ")";
  for (std::size_t k : unused_inputs)
    s << (ok ? "\n  warning: " : "\n  ") << "input " << k
      << " is not reached from f's output: f does not depend on it, so its check is vacuous "
         "(was its part of the graph built outside f?)";
  if (!stale.empty())
    s << "\n  f used a value built outside it: " << stale
      << "; gradients stop there and its value ignores the perturbations: build the whole graph "
         "inside f (or pass tape.constant(v.value()) if it is meant as a constant)";
  if (!unchecked.empty())
    s << "\n  f's output reaches " << unchecked
      << ", which is not among the inputs checked: a model's parameters are all checked with "
         "gradcheck(tape, model.parameters(), f); a value meant as a constant is made with tape.constant()";
  return s.str();
}

namespace {

// Turns the tape's watch for values from before the last clear() on for one
// call of f, and off again even if f throws.
struct WatchStale {
  explicit WatchStale(Tape<double>& t) : tape(t) { tape.set_watch_stale(true); }
  ~WatchStale() { tape.set_watch_stale(false); }
  Tape<double>& tape;
};

// The analytic side: f's output, and per output row (one row, the
// projection, in projection mode) the gradient of every input element.
struct Analytic {
  Shape out_shape;
  std::vector<double> weights;  // projection mode: R
  std::size_t rows = 0, cols = 0;
  std::vector<double> grads;  // rows x cols, inputs concatenated
  std::vector<bool> reached;  // per input
  std::string stale;
  std::string unchecked;  // a parameter f reaches that is not an input
};

Analytic analytic_side(Tape<double>& tape, const std::vector<Var<double>>& inputs,
                       const std::function<Var<double>()>& f, const GradcheckOptions& opt) {
  Analytic an;
  tape.clear();
  tape.parameter_notes().forget_grads();
  Var<double> out;
  {
    WatchStale watch(tape);
    out = f();
    an.stale = tape.stale_input();
  }
  an.out_shape = to_shape(out.shape());
  for (const auto& x : inputs) an.cols += x.size();
  an.reached.assign(inputs.size(), false);
  Tensor<double> seed = tg::zeros<double>(an.out_shape);
  if (opt.mode == GradcheckMode::projection) {
    Rng rng(opt.seed);
    seed = uniform<double>(an.out_shape, 0.5, 1.5, rng) *
           xt::where(uniform<double>(an.out_shape, 0, 1, rng) < 0.5, -1.0, 1.0);
    an.weights.assign(seed.begin(), seed.end());
  }
  an.rows = opt.mode == GradcheckMode::projection ? 1 : out.size();
  an.grads.assign(an.rows * an.cols, 0.0);
  for (std::size_t j = 0; j < an.rows && out.requires_grad(); ++j) {
    for (const auto& x : inputs) x.node()->forget_grad();
    if (opt.mode == GradcheckMode::jacobian) {
      seed.fill(0.0);
      seed.data()[j] = 1.0;
    }
    tape.backward(out, seed, retain_graph);
    std::size_t col = j * an.cols;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      if (inputs[k].has_grad()) {
        an.reached[k] = true;
        std::copy_n(inputs[k].grad().data(), inputs[k].size(), an.grads.begin() + col);
      }
      col += inputs[k].size();
    }
    if (j == 0) {
      std::vector<const Node<double>*> known;
      for (const auto& x : inputs) known.push_back(x.node().get());
      an.unchecked = tape.parameter_notes().first_unknown_with_grad(known, false);
    }
  }
  tape.clear();
  tape.parameter_notes().forget_grads();
  for (const auto& x : inputs) x.node()->forget_grad();
  return an;
}

}  // namespace

GradcheckResult gradcheck(Tape<double>& tape, const std::vector<Var<double>>& inputs,
                          const std::function<Var<double>()>& f,
                          const GradcheckOptions& opt) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].requires_grad())
      throw Error("gradcheck: input " + std::to_string(i) + " does not require grad; " +
                  "make it with tape.parameter()");
  const Analytic an = analytic_side(tape, inputs, f, opt);

  // The numeric side: f's output (projected in projection mode) at a point.
  auto evaluate = [&](std::vector<double>& y) {
    auto guard = tape.no_grad();
    Var<double> v = f();
    if (to_shape(v.shape()) != an.out_shape)
      throw Error("gradcheck: f returned shape " + shape_str(v.shape()) + ", first " +
                  shape_str(an.out_shape));
    const double* p = v.value().data();
    if (opt.mode == GradcheckMode::projection) {
      y[0] = 0;
      for (std::size_t i = 0; i < v.size(); ++i) y[0] += an.weights[i] * p[i];
    } else {
      y.assign(p, p + v.size());
    }
    tape.clear();
  };

  GradcheckResult r;
  r.mode = opt.mode;
  r.atol = opt.atol;
  r.rtol = opt.rtol;
  r.outputs = shape_size(an.out_shape);
  r.stale = an.stale;
  if (!an.stale.empty()) r.ok = false;
  r.unchecked = an.unchecked;
  if (!an.unchecked.empty()) r.ok = false;
  for (std::size_t k = 0; k < inputs.size(); ++k)
    if (!an.reached[k]) {
      r.unused_inputs.push_back(k);
      if (!opt.allow_unused) r.ok = false;
    }
  double worst_ratio = -1;
  std::vector<double> plus(an.rows), minus(an.rows);
  std::size_t col = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor<double>& v = inputs[k].node()->value;
    for (std::size_t i = 0; i < v.size(); ++i, ++col) {
      const double saved = v.data()[i];
      v.data()[i] = saved + opt.eps;
      evaluate(plus);
      v.data()[i] = saved - opt.eps;
      evaluate(minus);
      v.data()[i] = saved;
      for (std::size_t j = 0; j < an.rows; ++j) {
        const double numeric = (plus[j] - minus[j]) / (2 * opt.eps);
        const double a = an.grads[j * an.cols + col];
        const double err = std::abs(a - numeric);
        const double scale = std::max(std::abs(a), std::abs(numeric));
        const double tol = opt.atol + opt.rtol * scale;
        r.max_abs_error = std::max(r.max_abs_error, err);
        if (scale > 0) r.max_rel_error = std::max(r.max_rel_error, err / scale);
        if (!(err <= tol)) r.ok = false;  // NaN fails too
        const double ratio = std::isnan(err) ? INFINITY : err / tol;
        if (ratio > worst_ratio) {
          worst_ratio = ratio;
          r.worst_input = k;
          r.worst_index = i;
          r.worst_output = opt.mode == GradcheckMode::jacobian ? j : 0;
          r.worst_analytic = a;
          r.worst_numeric = numeric;
        }
        ++r.entries_checked;
      }
      ++r.elements_checked;
    }
  }
  return r;
}

}  // namespace tg

#include "autograd/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "autograd/random.hpp"

namespace tg {

std::string GradcheckResult::report() const {
  std::ostringstream s;
  s << (ok ? "gradcheck passed" : "gradcheck FAILED") << ": " << elements_checked
    << " elements, max abs error " << max_abs_error << ", max rel error " << max_rel_error
    << "; worst at input " << worst_input << " element " << worst_index << " (analytic "
    << worst_analytic << ", numeric " << worst_numeric << ")";
  return s.str();
}

GradcheckResult gradcheck(Tape<double>& tape, const std::vector<Var<double>>& inputs,
                          const std::function<Var<double>()>& f,
                          const GradcheckOptions& opt) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].requires_grad())
      throw Error("gradcheck: input " + std::to_string(i) + " does not require grad; " +
                  "make it with tape.parameter()");

  // Analytic: backward of sum(R * out) with fixed random R.
  tape.clear();
  for (const auto& x : inputs) x.node()->has_grad = false;
  Var<double> out = f();
  Rng rng(opt.seed);
  const Tensor<double> weights = uniform<double>(to_shape(out.shape()), 0.5, 1.5, rng) *
                                 xt::where(uniform<double>(to_shape(out.shape()), 0, 1, rng) < 0.5, -1.0, 1.0);
  tape.backward(out, weights);
  std::vector<Tensor<double>> analytic;
  for (const auto& x : inputs)
    analytic.push_back(x.has_grad() ? x.grad() : tg::zeros<double>(x.shape()));
  tape.clear();

  auto reduced = [&] {
    auto guard = tape.no_grad();
    Var<double> y = f();
    if (y.shape() != out.shape())
      throw Error("gradcheck: f returned shape " + shape_str(y.shape()) + ", first " +
                  shape_str(out.shape()));
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += weights.data()[i] * y.value().data()[i];
    tape.clear();
    return s;
  };

  GradcheckResult r;
  double worst_ratio = -1;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor<double>& v = inputs[k].node()->value;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double saved = v.data()[i];
      v.data()[i] = saved + opt.eps;
      const double plus = reduced();
      v.data()[i] = saved - opt.eps;
      const double minus = reduced();
      v.data()[i] = saved;
      const double numeric = (plus - minus) / (2 * opt.eps);
      const double a = analytic[k].data()[i];
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
        r.worst_analytic = a;
        r.worst_numeric = numeric;
      }
      ++r.elements_checked;
    }
  }
  return r;
}

}  // namespace tg

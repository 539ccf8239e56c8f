// Helpers shared by the autograd tests: random leaves and a gradcheck that
// reports where it failed.
#pragma once

#include <catch2/catch.hpp>

#include <tapegrad/autograd/autograd.hpp>

namespace tg::test {

// A float64 leaf of random values in [lo, hi).
inline Var<double> rand_param(Tape<double>& tape, const Shape& shape, Rng& rng, double lo = -1,
                              double hi = 1) {
  return tape.parameter(uniform<double>(shape, lo, hi, rng));
}

// Values in [lo, hi) kept at least `gap` away from `kink` (relu at 0, ...).
inline Var<double> rand_param_off(Tape<double>& tape, const Shape& shape, Rng& rng, double kink,
                                  double gap = 0.05) {
  Tensor<double> v = uniform<double>(shape, -1, 1, rng);
  for (auto& x : v)
    if (std::abs(x - kink) < gap) x = kink + (x < kink ? -gap : gap);
  return tape.parameter(v);
}

inline void require_gradcheck(Tape<double>& tape, const std::vector<Var<double>>& inputs,
                              const std::function<Var<double>()>& f,
                              const GradcheckOptions& opt = {}) {
  const GradcheckResult r = gradcheck(tape, inputs, f, opt);
  INFO(r.report());
  REQUIRE(r.elements_checked > 0);
  REQUIRE(r.ok);
}

}  // namespace tg::test

// Helpers for the optimizer tests: two-element double parameters whose
// gradients are set by hand, and a tight comparison.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <iomanip>

#include <catch2/catch.hpp>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/optim/optim.hpp>

namespace tg::test {

inline Var<double> param2(Tape<double>& tape, double a, double b) {
  return tape.parameter(Tensor<double>{a, b});
}

// Replaces p's gradient, as if a backward had produced exactly (a, b).
inline void set_grad(Var<double>& p, double a, double b) {
  p.zero_grad();
  p.node()->accumulate(Tensor<double>{a, b});
}

// Exact equality of shape and every element. (Catch's REQUIRE(a == b) would
// see xtensor's elementwise operators and does not compile.)
inline bool same(const Tensor<double>& a, const Tensor<double>& b) { return a == b; }

// Both elements of p within 1e-12 of the hand-computed (a, b). Catch's
// Approx has a relative epsilon of ~1e-5 by default: too loose for this.
inline void require_near(const Var<double>& p, double a, double b, double tol = 1e-12) {
  INFO(std::setprecision(17) << "got (" << p.value()(0) << ", " << p.value()(1) << "), expected (" << a << ", " << b
               << ")");
  REQUIRE(std::abs(p.value()(0) - a) < tol);
  REQUIRE(std::abs(p.value()(1) - b) < tol);
}

// Every optimizer, with every option that keeps state switched on.
using Factory = std::function<std::unique_ptr<Optimizer<double>>(std::vector<Var<double>>)>;
inline std::vector<std::pair<const char*, Factory>> all_optimizers() {
  return {
      {"sgd",
       [](auto ps) {
         return std::make_unique<SGD<double>>(
             ps, SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.1));
       }},
      {"adam",
       [](auto ps) { return std::make_unique<Adam<double>>(ps, AdamOptions(0.1).weight_decay(0.1)); }},
      {"adamw", [](auto ps) { return std::make_unique<AdamW<double>>(ps, 0.1); }},
      {"rmsprop",
       [](auto ps) {
         return std::make_unique<RMSprop<double>>(ps,
                                                  RMSpropOptions(0.01).momentum(0.9).weight_decay(0.1));
       }},
      {"adagrad",
       [](auto ps) {
         return std::make_unique<Adagrad<double>>(ps, AdagradOptions(0.1).weight_decay(0.1));
       }},
  };
}

}  // namespace tg::test

// Gradient checking by central differences, for the library's tests and for
// users checking their own models. Run it in double.
//
//   Tape<double> tape;
//   auto W = tape.parameter(...), x = tape.parameter(...);
//   auto r = gradcheck(tape, {W, x}, [&] { return tanh(matmul(x, W)); });
//   REQUIRE(r.ok);  // r.report() says where the worst element is
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/tape.hpp"

namespace tg {

struct GradcheckOptions {
  double eps = 1e-6;   // step of the central difference
  double atol = 1e-7;  // an element passes when |analytic - numeric|
  double rtol = 1e-5;  //   <= atol + rtol * max(|analytic|, |numeric|)
  std::uint64_t seed = 12345;  // of the random weights that reduce the output
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // over all elements of all inputs
  double max_rel_error = 0;
  // The element that failed worst (relative to its tolerance).
  std::size_t worst_input = 0, worst_index = 0;
  double worst_analytic = 0, worst_numeric = 0;
  std::size_t elements_checked = 0;
  std::string report() const;
};

// Checks the gradient of f with respect to every element of every input.
// f rebuilds its graph on `tape` at each call (the tape is cleared between
// calls) and may return any shape: the output is reduced with fixed random
// weights, never a plain sum, which would hide errors that cancel. Inputs are
// leaves (tape.parameter); their values are perturbed and restored.
GradcheckResult gradcheck(Tape<double>& tape, const std::vector<Var<double>>& inputs,
                          const std::function<Var<double>()>& f,
                          const GradcheckOptions& options = {});

}  // namespace tg

// Gradient checking by central differences, for the library's tests and for
// users checking their own models. Run it in double.
//
//   Tape<double> tape;
//   auto W = tape.parameter(...), x = tape.parameter(...);
//   auto r = gradcheck(tape, {W, x}, [&] { return tanh(matmul(x, W)); });
//   REQUIRE(r.ok);  // r.report() says the mode, the tolerance and the worst entry
//
// Two modes:
// - projection (the default): the output is reduced with fixed random weights
//   R (never a plain sum, which would hide errors that cancel) and the one
//   backward of sum(R * out) is compared, per input element, with the central
//   difference of sum(R * out). One backward and 2 forwards per input element.
// - jacobian: every entry d out[j] / d in[i] of the full Jacobian, each
//   output element by its own backward (over one retained graph), each input
//   element by 2 forwards. Exact about which entry is wrong; costs one
//   backward per output element, so keep the outputs small.
// Either way an entry passes when
//   |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
//
// A check that checks nothing fails too: an input the output does not reach
// (its gradient and its difference are both a vacuous 0), and a value built
// outside f from the inputs (f must rebuild its whole graph at each call: a
// piece kept from before is a constant to both the backward and the
// difference, and a wrong gradient through it would pass).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tapegrad/autograd/tape.hpp>

namespace tg {

enum class GradcheckMode { projection, jacobian };

struct GradcheckOptions {
  double eps = 1e-6;   // step of the central difference
  double atol = 1e-7;  // an entry passes when |analytic - numeric|
  double rtol = 1e-5;  //   <= atol + rtol * max(|analytic|, |numeric|)
  std::uint64_t seed = 12345;  // of the random weights that reduce the output (projection)
  GradcheckMode mode = GradcheckMode::projection;
  // An input f's output does not reach fails the check, unless allowed here
  // (then the report only warns).
  bool allow_unused = false;
};

struct GradcheckResult {
  bool ok = true;
  GradcheckMode mode = GradcheckMode::projection;
  double atol = 0, rtol = 0;  // the tolerance used
  double max_abs_error = 0;   // over all entries
  double max_rel_error = 0;
  // The entry that failed worst (relative to its tolerance); worst_output is
  // the output element in jacobian mode, 0 in projection mode.
  std::size_t worst_input = 0, worst_index = 0, worst_output = 0;
  double worst_analytic = 0, worst_numeric = 0;
  std::size_t elements_checked = 0;  // input elements perturbed
  std::size_t outputs = 0;           // output elements of f
  std::size_t entries_checked = 0;   // numbers compared: elements (projection), outputs x elements (jacobian)
  std::vector<std::size_t> unused_inputs;  // inputs f's output does not reach
  std::string stale;  // a value f used that was built outside it ("" if none)
  // A parameter of the tape (not an input) that f's output reaches: it
  // would not be checked ("" if none). Fails the check.
  std::string unchecked;
  std::string report() const;
};

// Checks the gradient of f with respect to every element of every input.
// f rebuilds its graph on `tape` at each call (the tape is cleared between
// calls) and may return any shape. Inputs are leaves (tape.parameter); their
// values are perturbed and restored; every parameter's gradient is left
// zeroed (so one that f reaches but is not an input is seen, and fails).
GradcheckResult gradcheck(Tape<double>& tape, const std::vector<Var<double>>& inputs,
                          const std::function<Var<double>()>& f,
                          const GradcheckOptions& options = {});

}  // namespace tg

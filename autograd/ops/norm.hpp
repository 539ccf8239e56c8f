// Normalisation layers' ops, fused: one forward pass keeps each row's mean
// and reciprocal standard deviation, and one hand-written backward uses them.
#pragma once

#include <tapegrad/autograd/tape.hpp>

namespace tg {

// Layer normalisation over the last axis. x is (..., D); gamma and beta are
// (D). For each row x of D elements:
//   mu = mean(x)    var = mean((x - mu)^2)    rstd = 1 / sqrt(var + eps)
//   xhat = (x - mu) rstd                      y = gamma xhat + beta
// With g = dy gamma (elementwise) and means taken over the row:
//   dx = rstd (g - mean(g) - xhat mean(g xhat))
//   dgamma = sum over rows of dy xhat          dbeta = sum over rows of dy
// The variance is the biased one (divided by D), as in PyTorch's LayerNorm.
// Pass constants of ones and zeros for gamma and beta to normalise only.
template <class T>
Var<T> layer_norm(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta,
                  scalar_t<T> eps = scalar_t<T>(1e-5));

}  // namespace tg

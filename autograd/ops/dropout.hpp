// Inverted dropout.
#pragma once

#include <tapegrad/autograd/random.hpp>
#include <tapegrad/autograd/tape.hpp>

namespace tg {

// Training: y = a * m / (1 - p) with m ~ Bernoulli(1 - p) drawn from rng;
// da = dy * m / (1 - p). Evaluation (training = false) or p = 0: y is a itself.
template <class T> Var<T> dropout(const Var<T>& a, scalar_t<T> p, bool training, Rng& rng);

}  // namespace tg

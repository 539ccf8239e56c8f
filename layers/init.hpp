// Initialisers. Each returns a fresh tensor drawn from `rng`.
#pragma once

#include <tapegrad/autograd/random.hpp>

namespace tg::init {

// U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010),
// for a (fan_in, fan_out) weight.
template <class T> Tensor<T> glorot_uniform(std::size_t fan_in, std::size_t fan_out, Rng& rng);
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for Linear and RNNs.
template <class T> Tensor<T> fan_in_uniform(const Shape& shape, std::size_t fan_in, Rng& rng);
// A (rows, cols) matrix whose every (rows, rows) block along the columns is
// orthogonal (rows <= cols): for recurrent weights h W_hh, one block per
// gate, so repeated products neither explode nor vanish at the start.
// Each block is gain * Q, A = QR the QR decomposition of a fresh Gaussian
// (rows, rows) matrix with R's diagonal made positive: Haar-distributed, as
// PyTorch's nn.init.orthogonal_. Computed in double, then cast to T.
template <class T> Tensor<T> orthogonal(std::size_t rows, std::size_t cols, Rng& rng, T gain = 1);

}  // namespace tg::init

// The activations of the recurrent cells over contiguous rows, vectorised:
// the cells spend their non-product time here.
//
// Float rows run on 512-bit vectors where the CPU has AVX-512 (a run-time
// check, as for the matrix product), else on the vectors the library was
// compiled for; double rows always on the latter (gradient checks).
#pragma once

#include <cstddef>

namespace tg::activation {

// y[i] = 1 / (1 + exp(-x[i])) for i < n; x and y may be the same buffer.
template <class T>
void sigmoid(const T* x, T* y, std::size_t n);
// y[i] = tanh(x[i]) for i < n; x and y may be the same buffer.
template <class T>
void tanh(const T* x, T* y, std::size_t n);

}  // namespace tg::activation

// The few BLAS calls the library makes, behind a header that does not pull
// in <cblas.h> (which clashes with xtensor-blas in one translation unit).
#pragma once

#include <string>

namespace tg::blas {

// C(m,n) = alpha * op(A) op(B) + beta * C, all row-major and contiguous;
// op(X) = X^T when the flag is set. beta = 0 never reads C.
template <class T>
void gemm(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, const T* b,
          T beta, T* c);

// float products run on tapegrad's AVX-512 kernel or on OpenBLAS, per shape
// class, whichever measured faster on this machine (backend/gemm_choice.hpp;
// TAPEGRAD_GEMM=own or openblas forces one; OpenBLAS where the CPU lacks
// AVX-512); double products always on OpenBLAS.
// Names the float path and the choices so far, for logs; throws tg::Error
// for a bad TAPEGRAD_GEMM, as the first float product does.
std::string float_gemm_backend();

// "own" or "openblas": where gemm<float> sends this shape (choosing now if
// need be), ignoring the threaded-OpenBLAS rule below. For benchmarks, logs.
const char* float_gemm_backend_for(bool trans_a, bool trans_b, int m, int n, int k);

// OpenBLAS's float product, whatever the choice (benchmarks, tests).
void openblas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                    const float* b, float beta, float* c);

// Threads OpenBLAS may use (1 is fastest for the small products of RNNs).
void set_num_threads(int n);

}  // namespace tg::blas

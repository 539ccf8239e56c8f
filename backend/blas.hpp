// The few BLAS calls the library makes, behind a header that does not pull
// in <cblas.h> (which clashes with xtensor-blas in one translation unit).
#pragma once

namespace tg::blas {

// C(m,n) = alpha * op(A) op(B) + beta * C, all row-major and contiguous;
// op(X) = X^T when the flag is set. beta = 0 never reads C.
template <class T>
void gemm(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, const T* b,
          T beta, T* c);

// float products run on tapegrad's AVX-512 kernel where the CPU has it
// (backend/sgemm_avx512.hpp; TAPEGRAD_GEMM=openblas in the environment
// turns it off), else on OpenBLAS; double products always on OpenBLAS.
// Names the float path, for logs.
const char* float_gemm_backend();

// Threads OpenBLAS may use (1 is fastest for the small products of RNNs).
void set_num_threads(int n);

}  // namespace tg::blas

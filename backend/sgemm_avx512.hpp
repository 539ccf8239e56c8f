// Our own single-precision matrix product for CPUs with AVX-512.
//
// Why it exists: the products of a recurrent step are small ((50x128) @
// (128x128) for the MNIST RNN) and OpenBLAS, held to its Haswell (AVX2)
// kernels on these machines by OPENBLAS_CORETYPE, runs them at the AVX2 peak.
// This kernel uses the 512-bit units the CPU has, without touching OpenBLAS's
// setting. Compiled with a target attribute, it is only called after a
// run-time check (tg::blas::gemm dispatches), so the binary still runs on
// AVX2-only machines.
#pragma once

namespace tg::blas::avx512 {

// True when this CPU can run `sgemm` (AVX-512 F).
bool supported();

// C(m,n) = alpha * op(A) op(B) + beta * C, row-major and contiguous, the
// contract of tg::blas::gemm; beta = 0 never reads C.
void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
           const float* b, float beta, float* c);

}  // namespace tg::blas::avx512

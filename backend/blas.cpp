#include <tapegrad/backend/blas.hpp>

#include <cblas.h>

#include <cstdlib>
#include <cstring>

#include <tapegrad/backend/sgemm_avx512.hpp>

namespace tg::blas {
namespace {

int blas_threads = 1;

// Our AVX-512 kernel, unless the CPU lacks it or TAPEGRAD_GEMM=openblas.
bool use_own_kernel() {
  static const bool use = [] {
    const char* choice = std::getenv("TAPEGRAD_GEMM");
    return avx512::supported() && !(choice && std::strcmp(choice, "openblas") == 0);
  }();
  return use;
}

// Products this large (in multiply-adds) go to OpenBLAS when it may use more
// than one thread: our kernel runs on one.
constexpr long kThreadedWork = 1L << 24;

}  // namespace

template <>
void gemm<float>(bool ta, bool tb, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  if (use_own_kernel() && (blas_threads == 1 || long(m) * n * k < kThreadedWork))
    return avx512::sgemm(ta, tb, m, n, k, alpha, a, b, beta, c);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}

template <>
void gemm<double>(bool ta, bool tb, int m, int n, int k, double alpha, const double* a,
                  const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}

const char* float_gemm_backend() {
  if (!use_own_kernel()) return "OpenBLAS";
  return blas_threads == 1 ? "tapegrad's AVX-512 kernel"
                           : "tapegrad's AVX-512 kernel (threaded OpenBLAS above 2^24 multiply-adds)";
}

void set_num_threads(int n) {
  blas_threads = n < 1 ? 1 : n;
  openblas_set_num_threads(blas_threads);
}

}  // namespace tg::blas

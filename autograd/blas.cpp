#include "autograd/blas.hpp"

#include <cblas.h>

namespace tg::blas {

template <>
void gemm<float>(bool ta, bool tb, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}

template <>
void gemm<double>(bool ta, bool tb, int m, int n, int k, double alpha, const double* a,
                  const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}

void set_num_threads(int n) { openblas_set_num_threads(n); }

}  // namespace tg::blas

#include <tapegrad/backend/blas.hpp>

#include <cblas.h>

#include <cstdlib>

#include <tapegrad/backend/gemm_cache.hpp>
#include <tapegrad/backend/gemm_choice.hpp>

namespace tg::blas {
namespace {

int blas_threads = 1;

// Made at the first float product, from TAPEGRAD_GEMM and the cache file.
GemmChooser& float_chooser() {
  static GemmChooser chooser(parse_gemm_mode(std::getenv("TAPEGRAD_GEMM")), gemm_cache::default_path());
  return chooser;
}

// Products this large (in multiply-adds) go to OpenBLAS when it may use more
// than one thread: our kernel runs on one.
constexpr long kThreadedWork = 1L << 24;

}  // namespace

void openblas_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* b,
                    float beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}

template <>
void gemm<float>(bool ta, bool tb, int m, int n, int k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  GemmChooser& chooser = float_chooser();
  if (blas_threads > 1 && long(m) * n * k >= kThreadedWork)
    return openblas_sgemm(ta, tb, m, n, k, alpha, a, b, beta, c);
  chooser.gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
}

template <>
void gemm<double>(bool ta, bool tb, int m, int n, int k, double alpha, const double* a,
                  const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}

std::string float_gemm_backend() {
  const std::string d = float_chooser().describe();
  return blas_threads == 1 ? d : d + "; threaded OpenBLAS above 2^24 multiply-adds";
}

const char* float_gemm_backend_for(bool ta, bool tb, int m, int n, int k) {
  return float_chooser().backend_for(ta, tb, m, n, k) == Backend::own ? "own" : "openblas";
}

void set_num_threads(int n) {
  blas_threads = n < 1 ? 1 : n;
  openblas_set_num_threads(blas_threads);
}

}  // namespace tg::blas

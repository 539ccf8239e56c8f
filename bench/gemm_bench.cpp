// The float matrix product at the shapes recurrent layers use: tapegrad's
// AVX-512 kernel against OpenBLAS (whatever OPENBLAS_CORETYPE selects) and
// tg::blas::gemm<float> (the faster of the two per shape class, as chosen
// and cached on this machine; the label names its choice), one thread.
// Reports GFLOP/s per shape and transpose case.
//
//   OPENBLAS_NUM_THREADS=1 build/bench/bench_gemm
#include <cblas.h>

#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include <tapegrad/backend/blas.hpp>
#include <tapegrad/backend/sgemm_avx512.hpp>

namespace {

// args: m, n, k, transpose case (0 NN, 1 NT, 2 TN), backend (0 ours, 1 OpenBLAS, 2 auto)
void BM_sgemm(benchmark::State& state) {
  const int m = int(state.range(0)), n = int(state.range(1)), k = int(state.range(2));
  const bool ta = state.range(3) == 2, tb = state.range(3) == 1;
  const bool ours = state.range(4) == 0, automatic = state.range(4) == 2;
  if (ours && !tg::blas::avx512::supported()) {
    state.SkipWithError("no AVX-512 on this CPU");
    return;
  }
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(std::size_t(m) * k), b(std::size_t(k) * n), c(std::size_t(m) * n);
  for (float& x : a) x = u(gen);
  for (float& x : b) x = u(gen);
  // The first product of a class is timed on both backends: not in the loop.
  const char* chosen = automatic ? tg::blas::float_gemm_backend_for(ta, tb, m, n, k) : "";
  for (auto _ : state) {
    if (automatic)
      tg::blas::gemm<float>(ta, tb, m, n, k, 1.0f, a.data(), b.data(), 1.0f, c.data());
    else if (ours)
      tg::blas::avx512::sgemm(ta, tb, m, n, k, 1.0f, a.data(), b.data(), 1.0f, c.data());
    else
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                  k, 1.0f, a.data(), ta ? m : k, b.data(), tb ? k : n, 1.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k * double(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
  const std::string name = automatic ? std::string("auto->") + chosen + " " : ours ? "tapegrad " : "openblas ";
  state.SetLabel(name + (ta ? "TN" : tb ? "NT" : "NN"));
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "case", "blas"});
  for (int backend : {0, 1, 2}) {
    for (int c : {0, 1}) b->Args({50, 128, 128, c, backend});  // MNIST rnn step, dh
    b->Args({128, 128, 50, 2, backend});                         // its dW_hh
    b->Args({1400, 128, 28, 0, backend});                        // input projection
    b->Args({64, 512, 128, 0, backend});                         // LSTM step, 4 gates
    b->Args({64, 128, 512, 1, backend});                         // its dh
    for (int c : {0, 1}) b->Args({50, 128, 512, c, backend});  // MNIST lstm dh: NT, or NN on U^T
    b->Args({512, 512, 512, 0, backend});                        // a large square product
    b->Args({12800, 512, 128, 0, backend});  // IMDB input projection, 64 x 200 steps
    for (int c : {0, 1}) b->Args({12800, 128, 512, c, backend});  // its gradient to the embeddings
    b->Args({128, 512, 12800, 2, backend});  // its dW
  }
}

BENCHMARK(BM_sgemm)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();

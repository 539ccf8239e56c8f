#include <tapegrad/backend/gemm_choice.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <vector>

#include <tapegrad/backend/blas.hpp>
#include <tapegrad/backend/gemm_cache.hpp>
#include <tapegrad/backend/sgemm_avx512.hpp>
#include <tapegrad/backend/tensor.hpp>

namespace tg::blas {
namespace {

constexpr int kClasses = 4 * GemmChooser::kBuckets * GemmChooser::kBuckets * GemmChooser::kBuckets;
// Ours is kept only when at least this much faster: never slower than
// OpenBLAS beyond the noise of the timing.
constexpr double kMargin = 1.05;

using Clock = std::chrono::steady_clock;

void run(Backend b, bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* bm,
         float beta, float* c) {
  if (b == Backend::own) avx512::sgemm(ta, tb, m, n, k, alpha, a, bm, beta, c);
  else openblas_sgemm(ta, tb, m, n, k, alpha, a, bm, beta, c);
}

// Microseconds per product on each backend: warm-up, then runs of `reps`
// products taking turns (so a busy spell of a shared machine hits both), the
// fastest run of each; at least 5 runs, up to 15 while under ~0.3 s.
std::pair<double, double> time_both(bool ta, bool tb, int m, int n, int k) {
  std::vector<float> a(std::size_t(m) * k), b(std::size_t(k) * n), c(std::size_t(m) * n, 0.0f);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(i * 7919 % 2001) / 1000 - 1;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(i * 6271 % 2001) / 1000 - 1;
  const double work = double(m) * n * k;
  const int reps = int(std::clamp(2e6 / std::max(work, 1.0), 1.0, 1000.0));
  double best[2] = {1e300, 1e300};
  const Backend backends[2] = {Backend::own, Backend::openblas};
  for (Backend be : backends) run(be, ta, tb, m, n, k, 1, a.data(), b.data(), 1, c.data());
  const auto start = Clock::now();
  for (int r = 0; r < 15; ++r) {
    if (r >= 5 && Clock::now() - start > std::chrono::milliseconds(300)) break;
    for (int i = 0; i < 2; ++i) {
      const auto t0 = Clock::now();
      for (int rep = 0; rep < reps; ++rep)
        run(backends[i], ta, tb, m, n, k, 1, a.data(), b.data(), 1, c.data());
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / reps;
      best[i] = std::min(best[i], us);
    }
  }
  return {best[0], best[1]};
}

}  // namespace

GemmMode parse_gemm_mode(const char* value) {
  if (!value || !*value || std::strcmp(value, "auto") == 0) return GemmMode::automatic;
  if (std::strcmp(value, "own") == 0) return GemmMode::own;
  if (std::strcmp(value, "openblas") == 0) return GemmMode::openblas;
  throw Error(std::string("TAPEGRAD_GEMM='") + value +
              "': expected auto (the default: measured per shape), own (tapegrad's AVX-512 "
              "kernel) or openblas");
}

GemmChooser::GemmChooser(GemmMode mode, std::string cache_file, std::chrono::milliseconds lock_wait)
    : file_(std::move(cache_file)), lock_wait_(lock_wait), table_(new std::atomic<std::uint8_t>[kClasses]) {
  for (int i = 0; i < kClasses; ++i) table_[i].store(0, std::memory_order_relaxed);
  if (mode == GemmMode::own && !avx512::supported())
    throw Error("TAPEGRAD_GEMM=own: this CPU has no AVX-512, which tapegrad's kernel needs");
  if (mode == GemmMode::own) forced_ = Backend::own;
  if (mode == GemmMode::openblas || !avx512::supported()) forced_ = Backend::openblas;
  if (forced_ != Backend::unknown || file_.empty()) return;
  gemm_cache::Loaded loaded = gemm_cache::load(file_);
  problem_ = loaded.problem;
  if (!problem_.empty())
    std::cerr << "tapegrad: ignoring the gemm cache '" << file_ << "' (" << problem_
              << "); its shapes will be measured again and the file rewritten\n";
  for (const auto& [key, e] : loaded.entries) adopt(key, e.own ? Backend::own : Backend::openblas);
}

void GemmChooser::adopt(const std::string& key, Backend b) {
  const int i = gemm_cache::class_index(key);
  std::uint8_t expected = 0;  // a choice once made stays
  if (i >= 0) table_[i].compare_exchange_strong(expected, std::uint8_t(b), std::memory_order_release);
}

Backend GemmChooser::choose(bool ta, bool tb, int m, int n, int k) {
  std::lock_guard<std::mutex> guard(mutex_);
  const int i = index(ta, tb, m, n, k);
  if (const auto b = Backend(table_[i].load(std::memory_order_acquire)); b != Backend::unknown) return b;
  if (m == 0 || n == 0 || k == 0) return Backend::own;  // nothing to time; not kept
  const std::string key = gemm_cache::class_key(i);
  std::unique_ptr<gemm_cache::Lock> lock;
  gemm_cache::Entries entries;
  if (!file_.empty()) {
    if (!uncached_) lock = std::make_unique<gemm_cache::Lock>(file_, lock_wait_);
    if (lock && lock->timed_out()) {
      // Waiting longer could be forever (a stopped holder), and once is
      // enough: this process measures for itself and writes nothing.
      uncached_ = true;
      std::cerr << "tapegrad: " << lock->problem() << " (a run measuring, or stopped); measuring "
                << "without the gemm cache from now on in this process\n";
    }
    // Another process may have measured meanwhile: its choice wins. (Read
    // without the lock too: the file is always whole.)
    entries = gemm_cache::load(file_).entries;
    for (const auto& [other, e] : entries) adopt(other, e.own ? Backend::own : Backend::openblas);
    if (const auto b = Backend(table_[i].load(std::memory_order_acquire)); b != Backend::unknown) return b;
  }
  const auto [own_us, openblas_us] = time_both(ta, tb, m, n, k);
  const bool own = own_us * kMargin < openblas_us;
  ++measured_;
  entries[key] = gemm_cache::Entry{own, m, n, k, own_us, openblas_us};
  if (!file_.empty() && !uncached_) {
    try {
      gemm_cache::store(file_, entries);
    } catch (const std::exception& e) {
      static std::once_flag warned;
      std::call_once(warned, [&] { std::cerr << "tapegrad: gemm choices not cached: " << e.what() << "\n"; });
    }
  }
  const Backend b = own ? Backend::own : Backend::openblas;
  table_[i].store(std::uint8_t(b), std::memory_order_release);
  return b;
}

void GemmChooser::gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* b,
                       float beta, float* c) {
  run(backend_for(ta, tb, m, n, k), ta, tb, m, n, k, alpha, a, b, beta, c);
}

std::string GemmChooser::describe() const {
  if (forced_ == Backend::own) return "tapegrad's AVX-512 kernel (TAPEGRAD_GEMM=own)";
  if (forced_ == Backend::openblas)
    return avx512::supported() ? "OpenBLAS (TAPEGRAD_GEMM=openblas)" : "OpenBLAS (no AVX-512 on this CPU)";
  std::lock_guard<std::mutex> guard(mutex_);
  int own = 0, openblas = 0;
  for (int i = 0; i < kClasses; ++i) {
    const auto b = Backend(table_[i].load(std::memory_order_acquire));
    own += b == Backend::own;
    openblas += b == Backend::openblas;
  }
  const std::string cache = file_.empty() ? "not cached" : "cache " + file_;
  return "the faster per shape class (TAPEGRAD_GEMM=auto; so far own kernel for " + std::to_string(own) +
         " classes, OpenBLAS for " + std::to_string(openblas) + "; " + cache + ")";
}

}  // namespace tg::blas

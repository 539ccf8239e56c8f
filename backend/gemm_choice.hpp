// Which backend runs a float product: tapegrad's AVX-512 kernel or OpenBLAS.
//
// Neither wins everywhere: with OpenBLAS held to its AVX2 kernels (as
// OPENBLAS_CORETYPE=Haswell does) ours is faster on every shape we use, but
// OpenBLAS's own AVX-512 kernels beat ours on some large products. So in the
// automatic mode the first product of each shape class (transpose case and
// m, n, k rounded up to powers of two) times both on scratch buffers of its
// shape and keeps OpenBLAS unless ours is clearly (5%) faster. The choices are
// kept in a JSON file per machine (gemm_cache.hpp) and read back by later
// processes, so every process sharing the file routes a shape the same way.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace tg::blas {

// TAPEGRAD_GEMM: auto (the default), own or openblas.
enum class GemmMode { automatic, own, openblas };
enum class Backend : std::uint8_t { unknown = 0, own = 1, openblas = 2 };

// The mode a TAPEGRAD_GEMM value names (null or empty: automatic); any other
// value throws tg::Error naming the variable and the value.
GemmMode parse_gemm_mode(const char* value);

class GemmChooser {
 public:
  // How long a measurement waits for another process's lock on the cache
  // (gemm_cache::Lock); past it this process measures without the cache.
  static constexpr std::chrono::milliseconds kLockWait{5000};

  // cache_file empty: choices are measured but neither read nor written.
  // Throws tg::Error for `own` on a CPU without AVX-512.
  GemmChooser(GemmMode mode, std::string cache_file, std::chrono::milliseconds lock_wait = kLockWait);

  // The backend of this shape, the same on every call. The hot path is one
  // table load; an unseen class is measured once, under a lock.
  Backend backend_for(bool ta, bool tb, int m, int n, int k) {
    if (forced_ != Backend::unknown) return forced_;
    const Backend b = Backend(table_[index(ta, tb, m, n, k)].load(std::memory_order_acquire));
    return b != Backend::unknown ? b : choose(ta, tb, m, n, k);
  }

  // The contract of tg::blas::gemm<float>, on backend_for's answer.
  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* b,
            float beta, float* c);

  // For logs: the mode, and in the automatic one the choices so far.
  std::string describe() const;
  // Classes this object has timed (the others came from the cache file).
  int measured() const { return measured_; }
  // What was wrong with the cache file when it was read, or "".
  const std::string& cache_problem() const { return problem_; }

  static constexpr int kBuckets = 32;  // sizes up to 2^31
  static int bucket(int size) { return size <= 1 ? 0 : 32 - __builtin_clz(unsigned(size - 1)); }
  static int index(bool ta, bool tb, int m, int n, int k) {
    return ((((ta ? 1 : 0) + (tb ? 2 : 0)) * kBuckets + bucket(m)) * kBuckets + bucket(n)) *
               kBuckets + bucket(k);
  }

 private:
  Backend choose(bool ta, bool tb, int m, int n, int k);
  void adopt(const std::string& key, Backend b);

  Backend forced_ = Backend::unknown;
  std::string file_;
  std::chrono::milliseconds lock_wait_;
  bool uncached_ = false;  // the lock was not had in time: no more waiting for it
  std::string problem_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> table_;
  mutable std::mutex mutex_;  // taken only to choose
  int measured_ = 0;
};

}  // namespace tg::blas

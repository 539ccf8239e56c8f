#include <tapegrad/backend/memory.hpp>

#include <malloc.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace tg::memory {
namespace {

// Blocks up to 512 bytes round up to a multiple of 64; larger ones to one of
// four steps per power of two (at most 25% waste).
constexpr std::size_t kClasses = 8 + 4 * 54;
constexpr std::size_t kLargest = std::size_t(1) << 32;  // beyond: plain malloc/free

std::size_t size_class(std::size_t bytes, std::size_t& rounded) {
  if (bytes <= 512) {
    rounded = bytes <= 64 ? 64 : (bytes + 63) & ~std::size_t(63);
    return rounded / 64 - 1;
  }
  const unsigned p = 64 - __builtin_clzll(bytes - 1);  // 2^(p-1) < bytes <= 2^p
  const std::size_t step = std::size_t(1) << (p - 3);
  rounded = (bytes + step - 1) & ~(step - 1);
  return 8 + (p - 10) * 4 + (((rounded - 1) >> (p - 3)) & 3);
}

struct Cache {
  std::vector<void*> free[kClasses];
  Stats stats;
  ~Cache() {
    release();
    alive = false;
  }
  void release() {
    for (auto& list : free) {
      for (void* p : list) std::free(p);
      list.clear();
    }
    stats.cached_bytes = 0;
  }
  static thread_local bool alive;
};
thread_local bool Cache::alive = true;
thread_local Cache cache;

}  // namespace

void* allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  std::size_t rounded = bytes;
  if (bytes <= kLargest && Cache::alive) {
    const std::size_t c = size_class(bytes, rounded);
    auto& list = cache.free[c];
    cache.stats.live_bytes += rounded;
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      cache.stats.cached_bytes -= rounded;
      return p;
    }
  } else {
    rounded = (bytes + 63) & ~std::size_t(63);
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  return p;
}

void deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes > kLargest || !Cache::alive) {
    std::free(p);
    return;
  }
  std::size_t rounded;
  const std::size_t c = size_class(bytes, rounded);
  try {
    cache.free[c].push_back(p);
  } catch (...) {
    std::free(p);
    cache.stats.live_bytes -= rounded;
    return;
  }
  cache.stats.live_bytes -= rounded;
  cache.stats.cached_bytes += rounded;
}

Stats stats() { return cache.stats; }
void release_cached() { cache.release(); }

// A tape that allocated its results anew every step would spend most of its
// time in page faults; with these thresholds the next step reuses warm pages.
void tune_allocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
}

}  // namespace tg::memory

// Memory for tensors and graph nodes: per-thread caches of freed blocks by
// size class, never handed back to the OS while the thread runs.
//
// A training step allocates the same sizes every step. Reusing the previous
// step's blocks avoids both malloc's cost for 10,000 small tensors and the
// page faults of fresh large buffers (~13 us per 4 KiB page on these VMs).
// The price is that the cache holds the peak of one step's working set.
#pragma once

#include <cstddef>
#include <new>

namespace tg::memory {

// 64-byte aligned; 0 bytes gives nullptr.
void* allocate(std::size_t bytes);
void deallocate(void* p, std::size_t bytes) noexcept;

struct Stats {
  std::size_t live_bytes = 0;    // handed out and not yet returned (this thread)
  std::size_t cached_bytes = 0;  // returned, kept for reuse (this thread)
};
Stats stats();
// Frees this thread's cached blocks (e.g. after training, before evaluation
// on other shapes).
void release_cached();

// Keeps freed large blocks in the process (glibc's mallopt), for what comes
// from malloc directly: glibc hands them back to the OS by default, and
// touching fresh pages costs ~13 us per 4 KiB on these VMs. Once per
// process; every Tape calls it.
void tune_allocator();

// The allocator of tg::Tensor. It lives here, not in tg, so that argument-
// dependent lookup from inside xtensor never finds tg's ops (tg::sum...).
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(memory::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { memory::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const PoolAllocator<U>&) const noexcept { return false; }
};

}  // namespace tg::memory

namespace tg {
using memory::PoolAllocator;
}  // namespace tg

// Bump allocation in chunks kept across reset(): the tape builds each op's
// backward closure here, so recording an op costs a pointer increment, not a
// malloc, and a training step reuses the chunks of the step before.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace tg {

class Arena {
 public:
  void* allocate(std::size_t bytes, std::size_t align) {
    std::size_t at = (used_ + align - 1) & ~(align - 1);
    if (chunk_ >= chunks_.size() || at + bytes > chunks_[chunk_].size) {
      next_chunk(bytes + align);
      at = (used_ + align - 1) & ~(align - 1);
    }
    used_ = at + bytes;
    return chunks_[chunk_].data.get() + at;
  }
  // Everything allocated is free again; the chunks stay.
  void reset() {
    chunk_ = 0;
    used_ = 0;
  }

 private:
  struct Chunk {
    std::unique_ptr<unsigned char[]> data;
    std::size_t size;
  };
  void next_chunk(std::size_t at_least);
  std::vector<Chunk> chunks_;
  std::size_t chunk_ = 0, used_ = 0;
};

}  // namespace tg

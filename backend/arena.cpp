#include <tapegrad/backend/arena.hpp>

#include <algorithm>

namespace tg {

void Arena::next_chunk(std::size_t at_least) {
  // Move to the next kept chunk if it is big enough, else insert a new one.
  if (!chunks_.empty()) ++chunk_;
  if (chunk_ < chunks_.size() && chunks_[chunk_].size >= at_least) {
    used_ = 0;
    return;
  }
  const std::size_t size = std::max<std::size_t>(at_least, 256 << 10);
  chunks_.insert(chunks_.begin() + chunk_, Chunk{std::make_unique<unsigned char[]>(size), size});
  used_ = 0;
}

}  // namespace tg

#include <tapegrad/datasets/sampler.hpp>

#include <algorithm>
#include <numeric>
#include <string>

#include <tapegrad/backend/tensor.hpp>

namespace tg::data {
namespace {

// Uniform integer in [0, bound) by rejection: no modulo bias.
std::uint64_t below(std::uint64_t bound, std::mt19937_64& rng) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t x;
  do x = rng(); while (x >= limit);
  return x % bound;
}

}  // namespace

void shuffle_indices(std::vector<std::size_t>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i, rng)]);
}

EpochSampler::EpochSampler(std::size_t n, std::size_t batch, std::uint64_t seed)
    : order_(n), batch_(batch), seed_(seed), rng_(seed) {
  if (n == 0) throw Error("EpochSampler: no items to sample");
  if (batch == 0) throw Error("EpochSampler: batch size 0");
  std::iota(order_.begin(), order_.end(), std::size_t(0));
  shuffle_indices(order_, rng_);
}

std::vector<std::size_t> EpochSampler::next() {
  std::size_t end = std::min(pos_ + batch_, order_.size());
  std::vector<std::size_t> out(order_.begin() + std::ptrdiff_t(pos_), order_.begin() + std::ptrdiff_t(end));
  pos_ = end;
  if (pos_ == order_.size()) {
    pos_ = 0;
    ++epoch_;
    shuffle_indices(order_, rng_);
  }
  return out;
}

std::vector<std::size_t> EpochSampler::at(std::size_t epoch, std::size_t index) {
  if (index >= batches_per_epoch())
    throw Error("EpochSampler: batch " + std::to_string(index) + " of an epoch of " +
                std::to_string(batches_per_epoch()));
  if (epoch != epoch_ || index != this->index()) {
    if (epoch < epoch_ || (epoch == epoch_ && index < this->index())) {
      rng_.seed(seed_);
      std::iota(order_.begin(), order_.end(), std::size_t(0));
      shuffle_indices(order_, rng_);
      epoch_ = 0;
    }
    for (; epoch_ < epoch; ++epoch_) shuffle_indices(order_, rng_);
    pos_ = index * batch_;
  }
  return next();
}

}  // namespace tg::data

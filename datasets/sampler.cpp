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

std::vector<std::vector<std::size_t>> length_buckets(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch, SplitMix64& rng,
                                                     std::size_t pool_batches) {
  if (batch == 0) throw Error("length_buckets: batch size 0");
  if (pool_batches == 0) throw Error("length_buckets: pools of 0 batches");
  // SplitMix64's below(), not the rejection sampling of shuffle_indices:
  // slot_filling's batches were drawn this way, and stay bit for bit.
  auto shuffle = [&rng](auto& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
  };
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  shuffle(order);
  const std::size_t pool = pool_batches * batch;
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t p = 0; p < order.size(); p += pool) {
    const auto first = order.begin() + std::ptrdiff_t(p);
    const auto last = order.begin() + std::ptrdiff_t(std::min(order.size(), p + pool));
    std::stable_sort(first, last, [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
    for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(std::ptrdiff_t(batch), last - it))
      batches.emplace_back(it, it + std::min<std::ptrdiff_t>(std::ptrdiff_t(batch), last - it));
  }
  shuffle(batches);
  return batches;
}

}  // namespace tg::data

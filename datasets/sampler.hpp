// The orders batches are drawn in: epoch-wise shuffled batches of indices
// (EpochSampler) and length buckets (length_buckets); the loader
// (loader.hpp) builds on both. EpochSampler's shuffle is our own
// Fisher-Yates over std::mt19937_64's raw output: std::shuffle and
// std::uniform_int_distribution are implementation-defined, so a seed would
// give different orders with libstdc++ and libc++; mt19937_64's output
// sequence is fixed by the standard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <tapegrad/datasets/rng.hpp>

namespace tg::data {

// Permutes v in place, reproducibly for a given engine state.
void shuffle_indices(std::vector<std::size_t>& v, std::mt19937_64& rng);

class EpochSampler {
 public:
  // n items, batches of `batch`; the last batch of an epoch holds the
  // remainder (25,000 / 64 = 390 full batches + one of 40), so every item is
  // seen exactly once per epoch.
  EpochSampler(std::size_t n, std::size_t batch, std::uint64_t seed);

  // Indices of the next batch; after the last batch of an epoch the order is
  // reshuffled and the next epoch starts.
  std::vector<std::size_t> next();

  // Indices of batch `index` (0-based) of epoch `epoch`: next() when that is
  // the next batch, otherwise the order is replayed from the seed up to that
  // epoch (a resumed run gets exactly the batches of an uninterrupted one).
  std::vector<std::size_t> at(std::size_t epoch, std::size_t index);

  std::size_t epoch() const { return epoch_; }  // 0-based epoch of the next batch
  std::size_t index() const { return pos_ / batch_; }  // its batch within the epoch
  std::size_t batches_per_epoch() const { return (order_.size() + batch_ - 1) / batch_; }
  std::size_t size() const { return order_.size(); }

 private:
  std::vector<std::size_t> order_;
  std::size_t batch_;
  std::size_t pos_ = 0;
  std::size_t epoch_ = 0;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
};

// One epoch's batches of indices 0..lengths.size()-1, drawn by rng: the
// indices are shuffled, cut into pools of `pool_batches` batches, each pool
// sorted by length (stable) and cut into batches, and the batches shuffled.
// A batch then pads little (on ATIS random batches of 16 run 1.8x the real
// time steps, these about 1.05x) while every epoch still sees new batch
// mixes in a new order. Only the last pool's last batch may be smaller.
std::vector<std::vector<std::size_t>> length_buckets(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch, SplitMix64& rng,
                                                     std::size_t pool_batches = 50);

}  // namespace tg::data

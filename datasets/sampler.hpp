// Epoch-wise shuffled batches of indices, shared by the MNIST and IMDB
// batchers. The shuffle is our own Fisher-Yates over std::mt19937_64's raw
// output: std::shuffle and std::uniform_int_distribution are
// implementation-defined, so a seed would give different orders with
// libstdc++ and libc++; mt19937_64's output sequence is fixed by the standard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

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

}  // namespace tg::data

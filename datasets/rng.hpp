// A small seeded generator (SplitMix64) for the data side: corpus grammar,
// length buckets, word dropout. Used rather than
// std::uniform_int_distribution, whose output differs between standard
// libraries: a seed must give the same corpus and batches on every machine.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tg::data {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n) for n > 0. The modulo bias is below 2^-40 for the
  // small n used here, which no test or corpus can notice.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

  // Uniform in [0, 1), from the top 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  bool chance(double p) { return uniform() < p; }

 private:
  std::uint64_t state_;
};

}  // namespace tg::data

#include "apps/adding_problem/adding_model.hpp"

namespace tg::adding {

template <class T>
Batch<T> make_batch(std::size_t length, std::size_t count, Rng& rng) {
  if (length < 2)
    throw Error("adding problem: a sequence needs at least 2 steps (one marker per half), got " +
                std::to_string(length));
  const std::size_t half = length / 2;
  std::uniform_real_distribution<double> value(0.0, 1.0);
  std::uniform_int_distribution<std::size_t> in_first(0, half - 1), in_second(half, length - 1);

  Batch<T> b{zeros<T>(Shape{length, count, 2}), zeros<T>(Shape{count, 1}), {}, {}};
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t t = 0; t < length; ++t) b.x(t, i, 0) = T(value(rng));
    b.first.push_back(in_first(rng));
    b.second.push_back(in_second(rng));
    for (std::size_t t : {b.first[i], b.second[i]}) {
      b.x(t, i, 1) = T(1);
      b.target(i, 0) += b.x(t, i, 0);
    }
  }
  return b;
}

template <class T>
Batch<T> batch_at(std::size_t length, std::size_t count, std::uint64_t seed, std::size_t step) {
  // seed_seq takes 32-bit words: both 64-bit numbers go in whole. The 1 keeps
  // this stream apart from the weights' Rng(seed).
  const auto lo = [](std::uint64_t v) { return std::uint32_t(v); };
  const auto hi = [](std::uint64_t v) { return std::uint32_t(v >> 32); };
  std::seed_seq words{lo(seed), hi(seed), std::uint32_t(1), lo(step), hi(step)};
  Rng rng(words);
  return make_batch<T>(length, count, rng);
}

template Batch<float> make_batch(std::size_t, std::size_t, Rng&);
template Batch<double> make_batch(std::size_t, std::size_t, Rng&);
template Batch<float> batch_at(std::size_t, std::size_t, std::uint64_t, std::size_t);
template Batch<double> batch_at(std::size_t, std::size_t, std::uint64_t, std::size_t);

}  // namespace tg::adding

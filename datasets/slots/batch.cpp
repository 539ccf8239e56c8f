#include <tapegrad/datasets/slots/batch.hpp>

#include <algorithm>
#include <numeric>

#include <tapegrad/backend/tensor.hpp>

namespace tg::slots {

std::vector<std::vector<std::size_t>> batch_indices(std::size_t n, std::size_t batch_size, Rng* rng) {
  if (batch_size == 0) throw Error("slots: batch_indices: batch size 0");
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (rng)  // Fisher-Yates with our own generator (std::shuffle differs by library)
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng->below(i)]);
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t b = 0; b < n; b += batch_size)
    batches.emplace_back(order.begin() + b, order.begin() + std::min(n, b + batch_size));
  return batches;
}

Batch make_batch(const EncodedSplit& split, const std::vector<std::size_t>& index) {
  if (index.empty()) throw Error("slots: make_batch: empty batch");
  Batch b;
  b.index = index;
  std::size_t T = 0;
  for (std::size_t i : index) {
    if (i >= split.words.size())
      throw Error("slots: make_batch: sentence " + std::to_string(i) + " of " +
                  std::to_string(split.words.size()));
    if (split.words[i].empty()) throw Error("slots: make_batch: sentence " + std::to_string(i) + " is empty");
    b.lengths.push_back(split.words[i].size());
    T = std::max(T, split.words[i].size());
  }
  const std::size_t B = index.size();
  b.words = xt::xarray<std::int64_t>::from_shape({T, B});
  b.tags = xt::xarray<std::int64_t>::from_shape({T, B});
  b.mask = xt::xarray<float>::from_shape({T, B});
  b.words.fill(Vocab::kPad);
  b.tags.fill(kTagPad);
  b.mask.fill(0.0f);
  for (std::size_t c = 0; c < B; ++c) {
    const auto& w = split.words[index[c]];
    const auto& t = split.tags[index[c]];
    for (std::size_t s = 0; s < w.size(); ++s) {
      b.words(s, c) = w[s];
      b.tags(s, c) = t[s];
      b.mask(s, c) = 1.0f;
    }
  }
  return b;
}

void word_dropout(Batch& batch, double p, Rng& rng) {
  if (p < 0 || p >= 1) throw Error("slots: word_dropout: p = " + std::to_string(p) + " not in [0, 1)");
  for (std::size_t c = 0; c < batch.lengths.size(); ++c)
    for (std::size_t s = 0; s < batch.lengths[c]; ++s)
      if (rng.chance(p)) batch.words(s, c) = Vocab::kUnk;
}

std::vector<std::vector<std::string>> decode_tags(const xt::xarray<std::int64_t>& predicted,
                                                  const std::vector<std::size_t>& lengths, const TagSet& tags) {
  if (predicted.dimension() != 2 || predicted.shape()[1] != lengths.size())
    throw Error("slots: decode_tags: predictions of shape " + shape_str(predicted.shape()) + " for " +
                std::to_string(lengths.size()) + " sentences");
  std::vector<std::vector<std::string>> out(lengths.size());
  for (std::size_t c = 0; c < lengths.size(); ++c) {
    if (lengths[c] > predicted.shape()[0])
      throw Error("slots: decode_tags: length " + std::to_string(lengths[c]) + " > T = " +
                  std::to_string(predicted.shape()[0]));
    for (std::size_t s = 0; s < lengths[c]; ++s) out[c].push_back(tags.tag(predicted(s, c)));
  }
  return out;
}

}  // namespace tg::slots

// Batches for a tagger: time-major (T, B), T = the longest sentence of the
// batch, shorter ones padded at the end.
//   words (T, B) int64  word ids, Vocab::kPad past a sentence's length
//   tags  (T, B) int64  tag ids, kTagPad past a sentence's length
//   mask  (T, B) float  1 on real tokens, 0 on padding (for a masked loss)
//   lengths (B)         real lengths; index (B): row of each column in the split
// Plain xt::xarray (not tg::Tensor, whose allocator lives in the autograd
// library): `words` goes straight into layers' Embedding::forward, and
// std::vector<int64_t>(tags.begin(), tags.end()) / the same of `mask` are
// the targets and weights of cross_entropy over logits (T, B, C), row t*B+b.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include <tapegrad/datasets/loader.hpp>
#include <tapegrad/datasets/slots/rng.hpp>
#include <tapegrad/datasets/slots/vocab.hpp>

namespace tg::slots {

// Never a tag id: a loss that meets it without the mask fails loudly
// instead of training padding as "O".
constexpr std::int64_t kTagPad = -1;

struct Batch {
  xt::xarray<std::int64_t> words, tags;
  xt::xarray<float> mask;
  std::vector<std::size_t> lengths, index;
};

// Sentence indices 0..n-1 cut into batches of batch_size (the last may be
// smaller). In order when rng is null; otherwise shuffled by it, so one Rng
// seeded once gives a new, reproducible order every epoch.
std::vector<std::vector<std::size_t>> batch_indices(std::size_t n, std::size_t batch_size, Rng* rng = nullptr);

// The sentences `index` of `split`, padded. tg::Error on an empty index, an
// index out of range or an empty sentence.
Batch make_batch(const EncodedSplit& split, const std::vector<std::size_t>& index);

// A split's batches through make_batch. slot_filling's length buckets:
//   data::LoaderOptions o;  o.batch = 16;  o.seed = seed;  o.bucket_pool = 50;
//   SentenceLoader loader(train, o, make_batch, train.lengths());
using SentenceLoader = data::Loader<EncodedSplit, decltype(&make_batch)>;

// Word dropout: each real (unpadded) word id becomes Vocab::kUnk with
// probability p, so the model learns an embedding for unknown words. For
// training batches only.
void word_dropout(Batch& batch, double p, Rng& rng);

// Predicted tag ids (T, B) -> tag strings per sentence, cut at the real
// lengths: what ChunkScorer::add and filled_slots take.
std::vector<std::vector<std::string>> decode_tags(const xt::xarray<std::int64_t>& predicted,
                                                  const std::vector<std::size_t>& lengths, const TagSet& tags);

}  // namespace tg::slots

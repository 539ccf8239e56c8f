// MNIST, IMDB and the slot corpora as datasets: their loaders give exactly
// the batches the apps built before the loader (EpochSampler + mnist_batch /
// imdb_batch, slot_filling's BatchPlan + make_batch).
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <tapegrad/datasets/imdb.hpp>
#include <tapegrad/datasets/mnist.hpp>
#include <tapegrad/datasets/slots/batch.hpp>

using namespace tg::data;
using Catch::Contains;

namespace {

LoaderOptions options(std::size_t batch, std::uint64_t seed) {
  LoaderOptions o;
  o.batch = batch;
  o.seed = seed;
  return o;
}

MnistSplit some_images(std::size_t n) {
  MnistSplit s;
  for (std::size_t i = 0; i < n * 784; ++i) s.pixels.push_back(std::uint8_t((i * 37 + i / 784) % 256));
  for (std::size_t i = 0; i < n; ++i) s.labels.push_back(std::uint8_t(i % 10));
  return s;
}

ImdbSplit some_reviews() {
  std::vector<std::string> texts;
  std::vector<float> labels;
  for (int i = 0; i < 23; ++i) {
    std::string t;
    for (int k = 0; k <= i % 9; ++k) t += "w" + std::to_string((i * 5 + k) % 7) + " ";
    texts.push_back(t);
    labels.push_back(float(i % 2));
  }
  return encode_texts(texts, labels, Vocab({"w0", "w1", "w2", "w3", "w4"}), 6);  // w5, w6: out of vocabulary
}

// Sentences of 1..12 words, words and tags from the index.
tg::slots::EncodedSplit some_sentences(std::size_t n) {
  tg::slots::EncodedSplit s;
  SplitMix64 gen(4);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t len = 1 + gen.below(12);
    s.words.emplace_back();
    s.tags.emplace_back();
    for (std::size_t k = 0; k < len; ++k) {
      s.words.back().push_back(std::int64_t(2 + (i + k) % 50));
      s.tags.back().push_back(std::int64_t((i * k) % 5));
    }
  }
  return s;
}

}  // namespace

TEST_CASE("datasets: MnistLoader's batches are EpochSampler's through mnist_batch", "[datasets][loader]") {
  const MnistSplit split = some_images(23);
  MnistLoader loader(split, options(5, 11), mnist_batch);
  EpochSampler sampler(23, 5, 11);  // mnist_rnn before the loader
  REQUIRE(loader.batches_per_epoch() == 5);
  for (std::size_t e = 0; e < 3; ++e)
    for (std::size_t i = 0; i < 5; ++i) {
      const MnistBatch a = loader.at(e, i), b = mnist_batch(split, sampler.at(e, i));
      REQUIRE(a.x.shape() == b.x.shape());
      CHECK((a.x == b.x));  // parenthesised: Catch cannot decompose xtensor operands
      CHECK(a.labels == b.labels);
    }
  const MnistBatch chunk = loader.range(20, 10), old = mnist_range(split, 20, 10);
  CHECK((chunk.x == old.x));
  CHECK(chunk.labels == old.labels);
}

TEST_CASE("datasets: MnistSplit::get is a view of image i", "[datasets][mnist]") {
  const MnistSplit split = some_images(3);
  const MnistImage img = split.get(2);
  REQUIRE(img.pixels.size() == 784);
  CHECK(img.pixels.data() == split.pixels.data() + 2 * 784);
  CHECK(img.label == 2);
  CHECK_THROWS_WITH(split.get(3), Contains("image 3 of 3"));
}

TEST_CASE("datasets: ImdbLoader's batches are EpochSampler's through imdb_batch", "[datasets][loader]") {
  const ImdbSplit split = some_reviews();
  ImdbLoader loader(split, options(4, 2), imdb_batch);
  EpochSampler sampler(split.size(), 4, 2);  // imdb_lstm before the loader
  REQUIRE(loader.batches_per_epoch() == 6);
  for (std::size_t e = 0; e < 3; ++e)
    for (std::size_t i = 0; i < 6; ++i) {
      const ImdbBatch a = loader.at(e, i), b = imdb_batch(split, sampler.at(e, i));
      CHECK((a.ids == b.ids));
      CHECK(a.lengths == b.lengths);
      CHECK((a.labels == b.labels));
    }
}

TEST_CASE("datasets: ImdbSplit::get gives the real tokens, and left padding rebuilds imdb_batch", "[datasets][imdb]") {
  const ImdbSplit split = some_reviews();
  const ImdbReview r = split.get(3);  // 4 tokens: w1 w2 w3 w4
  CHECK(std::vector<std::int32_t>(r.tokens.begin(), r.tokens.end()) == std::vector<std::int32_t>{3, 4, 5, 6});
  CHECK(r.label == 1.0f);
  CHECK_THROWS_WITH(split.get(23), Contains("review 23 of 23"));

  const std::vector<std::size_t> idx{0, 8, 3, 22};
  PadOptions o;
  o.side = Pad::Left;
  o.length = split.maxlen;
  const PaddedBatch p = pad_sequences(split, idx, o, [](const ImdbReview& v) { return v.tokens; });
  const ImdbBatch b = imdb_batch(split, idx);
  CHECK((p.ids == b.ids));
  for (std::size_t k = 0; k < idx.size(); ++k) CHECK(p.lengths[k] == std::size_t(b.lengths[k]));
}

TEST_CASE("datasets: SentenceLoader with bucket_pool 50 is slot_filling's BatchPlan through make_batch", "[datasets][loader]") {
  using namespace tg::slots;
  const EncodedSplit split = some_sentences(301);
  const std::vector<std::size_t> lengths = split.lengths();
  LoaderOptions o = options(8, 5);
  o.bucket_pool = 50;
  SentenceLoader loader(split, o, make_batch, lengths);
  for (std::size_t epoch : {0, 1, 4}) {
    // BatchPlan (apps/slot_filling/run.cpp) at this epoch.
    Rng rng(5 * 0x9E3779B97F4A7C15ULL + 17 + epoch * 0xD1B54A32D192ED03ULL);
    const auto plan = length_buckets(lengths, 8, rng);
    REQUIRE(loader.batches_per_epoch() == plan.size());
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const Batch a = loader.at(epoch, i), b = make_batch(split, plan[i]);
      CHECK((a.words == b.words));
      CHECK((a.tags == b.tags));
      CHECK((a.mask == b.mask));
      CHECK(a.lengths == b.lengths);
      CHECK(a.index == b.index);
    }
  }
}

TEST_CASE("datasets: an EncodedSplit is a dataset of its sentences", "[datasets][slots]") {
  const tg::slots::EncodedSplit split = some_sentences(4);
  CHECK(split.size() == 4);
  const tg::slots::EncodedSentence s = split.get(2);
  CHECK(&s.words == &split.words[2]);
  CHECK(&s.tags == &split.tags[2]);
  CHECK(split.lengths() == std::vector<std::size_t>{split.words[0].size(), split.words[1].size(),
                                                    split.words[2].size(), split.words[3].size()});
  CHECK_THROWS_WITH(split.get(4), Contains("sentence 4 of 4"));
  // Its words padded by the generic helper: make_batch's words and mask.
  const auto p = pad_sequences(split, {3, 0}, {}, [](const tg::slots::EncodedSentence& e) -> const auto& { return e.words; });
  const tg::slots::Batch b = tg::slots::make_batch(split, {3, 0});
  CHECK((p.ids == b.words));
  CHECK((p.mask == b.mask));
}

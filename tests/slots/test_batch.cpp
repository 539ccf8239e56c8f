#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/slots/batch.hpp>

using namespace tg::slots;
using Ids = std::vector<std::int64_t>;

namespace {
EncodedSplit three() {
  EncodedSplit e;
  e.words = {Ids{5, 6, 7}, Ids{8}, Ids{9, 10}};
  e.tags = {Ids{0, 1, 2}, Ids{3}, Ids{1, 0}};
  return e;
}
}  // namespace

TEST_CASE("a batch is time-major, padded to its longest sentence", "[slots][batch]") {
  const Batch b = make_batch(three(), {1, 0, 2});
  REQUIRE(b.words.shape() == std::vector<std::size_t>{3, 3});
  CHECK(b.lengths == std::vector<std::size_t>{1, 3, 2});
  // Column 0 is sentence 1 ({8}): one token then padding.
  CHECK(b.words(0, 0) == 8);
  CHECK(b.words(1, 0) == Vocab::kPad);
  CHECK(b.tags(1, 0) == kTagPad);
  CHECK(b.mask(1, 0) == 0.0f);
  CHECK(b.words(2, 1) == 7);
  CHECK(b.tags(2, 1) == 2);
  CHECK(b.mask(2, 1) == 1.0f);
  CHECK(b.words(1, 2) == 10);
  CHECK(b.words(2, 2) == Vocab::kPad);
  CHECK(std::accumulate(b.mask.begin(), b.mask.end(), 0.0f) == 6.0f);
  REQUIRE_THROWS_AS(make_batch(three(), {}), tg::Error);
  REQUIRE_THROWS_AS(make_batch(three(), {3}), tg::Error);
}

TEST_CASE("batch order: all indices once, shuffled reproducibly by the seed", "[slots][batch]") {
  const auto plain = batch_indices(10, 4);
  REQUIRE(plain.size() == 3);
  CHECK(plain[2] == std::vector<std::size_t>{8, 9});

  Rng r1(7), r2(7);
  const auto a = batch_indices(100, 32, &r1), b = batch_indices(100, 32, &r2);
  CHECK(a == b);
  CHECK(batch_indices(100, 32, &r1) != a);  // next epoch, next order
  std::vector<std::size_t> all;
  for (const auto& x : a) all.insert(all.end(), x.begin(), x.end());
  std::vector<std::size_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);
  CHECK(all != sorted);
}

TEST_CASE("word dropout turns real words into UNK, never padding", "[slots][batch]") {
  EncodedSplit e;
  for (int i = 0; i < 200; ++i) {
    e.words.push_back(Ids(1 + i % 20, 5));
    e.tags.push_back(Ids(1 + i % 20, 0));
  }
  std::vector<std::size_t> all(200);
  std::iota(all.begin(), all.end(), std::size_t{0});
  Batch b = make_batch(e, all), c = b;
  Rng r1(3), r2(3), r0(3);
  word_dropout(b, 0.25, r1);
  word_dropout(c, 0.25, r2);
  CHECK((b.words == c.words));  // same seed, same choices
  std::size_t real = 0, unk = 0;
  for (std::size_t s = 0; s < b.words.shape()[0]; ++s)
    for (std::size_t col = 0; col < 200; ++col) {
      if (b.mask(s, col) == 0.0f) {
        CHECK(b.words(s, col) == Vocab::kPad);
        continue;
      }
      ++real;
      unk += b.words(s, col) == Vocab::kUnk;
    }
  const double frac = static_cast<double>(unk) / real;  // 2100 tokens: 0.25 +- 0.03 is > 3 sigma
  CHECK(frac > 0.22);
  CHECK(frac < 0.28);
  Batch z = make_batch(e, all);
  const auto before = z.words;
  word_dropout(z, 0.0, r0);
  CHECK((z.words == before));
}

TEST_CASE("decode_tags cuts predictions at the real lengths", "[slots][batch]") {
  std::vector<Utterance> train = {{{"leave", "taipei"}, {"O", "B-depart_place"}, "x"}};
  const TagSet t = TagSet::build(train);
  xt::xarray<std::int64_t> pred = {{0, 1}, {1, 1}, {1, 0}};  // (T=3, B=2)
  const auto tags = decode_tags(pred, {3, 1}, t);
  CHECK(tags[0] == std::vector<std::string>{"O", "B-depart_place", "B-depart_place"});
  CHECK(tags[1] == std::vector<std::string>{"B-depart_place"});
  REQUIRE_THROWS_AS(decode_tags(pred, {4, 1}, t), tg::Error);
}

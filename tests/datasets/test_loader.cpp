// The loader (datasets/loader.hpp): its orders against the samplers the apps
// trained with, drop_last, shards, padding, a dataset of one's own, errors.
#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <set>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <tapegrad/datasets/loader.hpp>

using namespace tg::data;
using Catch::Contains;
using Indices = std::vector<std::size_t>;

namespace {

LoaderOptions options(std::size_t batch, std::uint64_t seed = 1) {
  LoaderOptions o;
  o.batch = batch;
  o.seed = seed;
  return o;
}

// n lengths in 1..40, drawn from seed 1.
std::vector<std::size_t> some_lengths(std::size_t n) {
  SplitMix64 gen(1);
  std::vector<std::size_t> lengths;
  for (std::size_t i = 0; i < n; ++i) lengths.push_back(1 + gen.below(40));
  return lengths;
}

// Every index of 0..n-1 once over the epoch's batches.
bool each_once(BatchOrder& order, std::size_t epoch, std::size_t n) {
  std::vector<int> seen(n, 0);
  for (std::size_t i = 0; i < order.batches_per_epoch(); ++i)
    for (std::size_t k : order.at(epoch, i)) ++seen.at(k);
  return std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; });
}

std::uint64_t hash_of(const std::vector<Indices>& batches) {
  std::uint64_t h = 0;
  for (const auto& b : batches)
    for (std::size_t i : b) h = h * 1000003 + i;
  return h;
}

}  // namespace

TEST_CASE("loader: shuffle without buckets is EpochSampler's sequence, in any access order", "[datasets][loader]") {
  for (std::size_t n : {1, 10, 64, 101})
    for (std::size_t batch : {1, 3, 64})
      for (std::uint64_t seed : {1, 42}) {
        EpochSampler reference(n, batch, seed);  // next(): the stream mnist_rnn and imdb_lstm trained on
        BatchOrder order(n, options(batch, seed));
        REQUIRE(order.batches_per_epoch() == reference.batches_per_epoch());
        std::vector<Indices> stream;
        for (std::size_t e = 0; e < 3; ++e)
          for (std::size_t i = 0; i < order.batches_per_epoch(); ++i) {
            stream.push_back(reference.next());
            REQUIRE(order.at(e, i) == stream.back());
          }
        // Backwards (a resume into an earlier epoch replays from the seed).
        for (std::size_t k = stream.size(); k-- > 0;)
          REQUIRE(order.at(k / order.batches_per_epoch(), k % order.batches_per_epoch()) == stream[k]);
      }
}

TEST_CASE("loader: without shuffle, examples in order every epoch", "[datasets][loader]") {
  LoaderOptions o = options(4);
  o.shuffle = false;
  BatchOrder order(10, o);
  REQUIRE(order.batches_per_epoch() == 3);
  for (std::size_t e : {0, 3}) {
    CHECK(order.at(e, 0) == Indices{0, 1, 2, 3});
    CHECK(order.at(e, 2) == Indices{8, 9});
  }
}

TEST_CASE("loader: bucket_pool 50 is slot_filling's BatchPlan, bit for bit", "[datasets][loader]") {
  const auto lengths = some_lengths(301);
  LoaderOptions o = options(4);
  o.bucket_pool = 50;
  SECTION("golden: the batches the app's length_buckets drew before it moved to datasets/") {
    // Printed by main's (91513c6) apps/slot_filling code: BatchPlan's seeding
    // and length_buckets, for these lengths and batch 4.
    struct Golden {
      std::uint64_t seed;
      std::size_t epoch;
      std::uint64_t hash;
      std::size_t small_batch;  // where the batch of 1 (301 = 75 x 4 + 1) landed
    };
    for (const Golden& g : {Golden{1, 0, 4859810483540685792ull, 5}, Golden{1, 1, 2031407739982082008ull, 0},
                            Golden{1, 5, 16299597621337454872ull, 33}, Golden{7, 0, 15049797568320113464ull, 24}}) {
      o.seed = g.seed;
      BatchOrder order(301, o, lengths);
      REQUIRE(order.batches_per_epoch() == 76);
      std::vector<Indices> batches;
      for (std::size_t i = 0; i < 76; ++i) batches.push_back(order.at(g.epoch, i));
      CHECK(hash_of(batches) == g.hash);
      CHECK(batches[g.small_batch].size() == 1);
    }
    o.seed = 1;
    CHECK(BatchOrder(301, o, lengths).at(0, 0) == Indices{290, 140, 296, 204});
  }
  SECTION("BatchPlan's seeding over length_buckets (run.cpp), any epoch in any order") {
    for (std::uint64_t seed : {1, 3}) {
      o.seed = seed;
      BatchOrder order(301, o, lengths);
      for (std::size_t epoch : {2, 0, 1, 1, 7}) {
        SplitMix64 rng(seed * 0x9E3779B97F4A7C15ULL + 17 + epoch * 0xD1B54A32D192ED03ULL);
        const auto plan = length_buckets(lengths, 4, rng);
        REQUIRE(plan.size() == order.batches_per_epoch());
        for (std::size_t i = 0; i < plan.size(); ++i) REQUIRE(order.at(epoch, i) == plan[i]);
      }
    }
  }
}

TEST_CASE("loader: buckets hold similar lengths, every example once, a new order each epoch", "[datasets][loader]") {
  const auto lengths = some_lengths(200);
  LoaderOptions o = options(10);
  o.bucket_pool = 20;  // one pool: the batches are the sorted order cut in tens
  BatchOrder order(200, o, lengths);
  CHECK(each_once(order, 0, 200));
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // (shortest, longest) of each batch
  for (std::size_t i = 0; i < order.batches_per_epoch(); ++i) {
    std::size_t lo = 100, hi = 0;
    for (std::size_t k : order.at(0, i)) lo = std::min(lo, lengths[k]), hi = std::max(hi, lengths[k]);
    spans.emplace_back(lo, hi);
  }
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) CHECK(spans[i - 1].second <= spans[i].first);
  CHECK(order.at(1, 0) != order.at(0, 0));
}

TEST_CASE("loader: drop_last drops the smaller batch and only it", "[datasets][loader]") {
  LoaderOptions o = options(3, 5);
  o.drop_last = true;
  SECTION("shuffled: EpochSampler's full batches") {
    BatchOrder order(10, o);
    EpochSampler reference(10, 3, 5);
    REQUIRE(order.batches_per_epoch() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
      std::set<std::size_t> seen;
      for (std::size_t i = 0; i < 3; ++i) {
        const Indices b = order.at(e, i);
        CHECK(b == reference.at(e, i));
        CHECK(b.size() == 3);
        seen.insert(b.begin(), b.end());
      }
      CHECK(seen.size() == 9);
    }
    CHECK_THROWS_WITH(order.at(0, 3), Contains("batch 3 of an epoch of 3 batches"));
  }
  SECTION("in order") {
    o.shuffle = false;
    BatchOrder order(10, o);
    REQUIRE(order.batches_per_epoch() == 3);
    CHECK(order.at(0, 2) == Indices{6, 7, 8});
  }
  SECTION("buckets: the batch of 1, wherever it landed") {
    o.bucket_pool = 50;
    o.batch = 4;
    o.seed = 1;
    const auto lengths = some_lengths(301);
    BatchOrder all(301, [&] { LoaderOptions k = o; k.drop_last = false; return k; }(), lengths);
    BatchOrder order(301, o, lengths);
    REQUIRE(order.batches_per_epoch() == 75);
    std::vector<Indices> kept;
    for (std::size_t i = 0; i < 76; ++i)
      if (all.at(1, i).size() == 4) kept.push_back(all.at(1, i));
    for (std::size_t i = 0; i < 75; ++i) CHECK(order.at(1, i) == kept[i]);
  }
  SECTION("a multiple of the batch loses nothing") {
    BatchOrder order(9, o);
    CHECK(order.batches_per_epoch() == 3);
    CHECK(each_once(order, 2, 9));
  }
}

TEST_CASE("loader: the shards of a batch partition it, as DataParallel splits it", "[datasets][loader]") {
  for (std::size_t ranks : {1, 2, 3, 4, 7}) {
    std::vector<BatchOrder> shards;
    for (std::size_t r = 0; r < ranks; ++r) {
      shards.emplace_back(23, options(5, 9));
      shards.back().shard(r, ranks);
    }
    BatchOrder whole(23, options(5, 9));
    for (std::size_t e = 0; e < 2; ++e)
      for (std::size_t i = 0; i < whole.batches_per_epoch(); ++i) {
        const Indices global = whole.at(e, i);  // 5, 5, 5, 5, 3 examples
        Indices joined;
        for (std::size_t r = 0; r < ranks; ++r) {
          const Indices part = shards[r].at(e, i);
          // The first global.size() % ranks ranks take one more.
          CHECK(part.size() == global.size() / ranks + (r < global.size() % ranks ? 1 : 0));
          joined.insert(joined.end(), part.begin(), part.end());
        }
        CHECK(joined == global);
      }
  }
}

TEST_CASE("loader: pad_sequences pads right or left, with mask and lengths", "[datasets][loader]") {
  struct Sentences {
    std::vector<std::vector<std::int64_t>> s{{1, 2, 3}, {4}, {5, 6}};
    std::size_t size() const { return s.size(); }
    const std::vector<std::int64_t>& get(std::size_t i) const { return s.at(i); }
  } data;
  auto column = [](const auto& t, std::size_t b) {
    std::vector<double> c;
    for (std::size_t k = 0; k < t.shape()[0]; ++k) c.push_back(double(t(k, b)));
    return c;
  };
  SECTION("right: tokens from step 0") {
    const PaddedBatch p = pad_sequences(data, {1, 0, 2});
    REQUIRE(p.ids.shape() == tg::Shape{3, 3});
    CHECK(p.lengths == Indices{1, 3, 2});
    CHECK(column(p.ids, 0) == std::vector<double>{4, 0, 0});
    CHECK(column(p.ids, 1) == std::vector<double>{1, 2, 3});
    CHECK(column(p.ids, 2) == std::vector<double>{5, 6, 0});
    CHECK(column(p.mask, 0) == std::vector<double>{1, 0, 0});
    CHECK(column(p.mask, 2) == std::vector<double>{1, 1, 0});
  }
  SECTION("left, a pad id and a fixed length: every sequence ends at the last step") {
    PadOptions o;
    o.side = Pad::Left;
    o.pad_id = -1;
    o.length = 4;
    const PaddedBatch p = pad_sequences(data, {1, 2}, o);
    REQUIRE(p.ids.shape() == tg::Shape{4, 2});
    CHECK(column(p.ids, 0) == std::vector<double>{-1, -1, -1, 4});
    CHECK(column(p.ids, 1) == std::vector<double>{-1, -1, 5, 6});
    CHECK(column(p.mask, 0) == std::vector<double>{0, 0, 0, 1});
    CHECK(column(p.mask, 1) == std::vector<double>{0, 0, 1, 1});
    CHECK(p.lengths == Indices{1, 2});
  }
  SECTION("errors name the sequence or the example") {
    PadOptions o;
    o.length = 2;
    CHECK_THROWS_WITH(pad_sequences(data, {1, 0}, o), Contains("sequence 1 of the batch has 3 tokens, more than length 2"));
    CHECK_THROWS_WITH(pad_sequences(data, {}), Contains("pad_sequences: no sequences"));
    CHECK_THROWS_WITH(pad_sequences(data, {0, 3}), Contains("pad_sequences: example 3 of a dataset of 3"));
  }
}

namespace {

// A user's own dataset: a size and an example by index, nothing else.
struct Points {
  std::vector<std::array<float, 3>> x;
  std::vector<int> label;
  struct Example {
    const std::array<float, 3>& x;
    int label;
  };
  std::size_t size() const { return x.size(); }
  Example get(std::size_t i) const { return {x.at(i), label.at(i)}; }
};

struct PointBatch {
  tg::Tensor<float> x;  // (B, 3)
  std::vector<int> labels;
};

PointBatch collate_points(const Points& d, const std::vector<std::size_t>& idx) {
  PointBatch b{stack_examples<float>(d, idx, [](const Points::Example& e) -> const auto& { return e.x; }), {}};
  for (std::size_t i : idx) b.labels.push_back(d.get(i).label);
  return b;
}

Points some_points(std::size_t n) {
  Points p;
  for (std::size_t i = 0; i < n; ++i) {
    p.x.push_back({float(i), float(i) + 0.5f, -float(i)});
    p.label.push_back(int(i % 3));
  }
  return p;
}

}  // namespace

TEST_CASE("loader: a user's own dataset through a Loader: every example once an epoch, as it is", "[datasets][loader]") {
  const Points points = some_points(11);
  Loader loader(points, options(4, 3), collate_points);
  REQUIRE(loader.batches_per_epoch() == 3);
  for (std::size_t e = 0; e < 2; ++e) {
    std::multiset<float> firsts;
    for (std::size_t i = 0; i < 3; ++i) {
      const PointBatch b = loader.at(e, i);
      const Indices idx = loader.indices(e, i);
      REQUIRE(b.x.shape() == tg::Shape{idx.size(), 3});
      for (std::size_t r = 0; r < idx.size(); ++r) {
        CHECK(b.x(r, 0) == float(idx[r]));
        CHECK(b.x(r, 1) == float(idx[r]) + 0.5f);
        CHECK(b.x(r, 2) == -float(idx[r]));
        CHECK(b.labels[r] == int(idx[r] % 3));
        firsts.insert(b.x(r, 0));
      }
    }
    CHECK(firsts.size() == 11);
    CHECK(std::set<float>(firsts.begin(), firsts.end()).size() == 11);
  }
  const PointBatch tail = loader.range(8, 100);  // clipped: 8, 9, 10
  CHECK(tail.labels == std::vector<int>{2, 0, 1});
  CHECK(loader.collate({5}).x(0, 1) == 5.5f);
  // A temporary dataset would dangle: no such constructor.
  static_assert(!std::is_constructible_v<Loader<Points, decltype(&collate_points)>, Points&&, LoaderOptions,
                                         decltype(&collate_points)>);
}

TEST_CASE("loader: a user's sentences through a Loader with buckets and padding", "[datasets][loader]") {
  struct Sentences {
    std::vector<std::vector<int>> s;
    std::size_t size() const { return s.size(); }
    const std::vector<int>& get(std::size_t i) const { return s.at(i); }
  } data;
  const auto lengths = some_lengths(120);
  for (std::size_t i = 0; i < lengths.size(); ++i) data.s.emplace_back(lengths[i], int(i));
  LoaderOptions o = options(8);
  o.bucket_pool = 5;
  Loader loader(data, o, [](const Sentences& d, const Indices& idx) { return pad_sequences(d, idx); }, lengths);
  std::size_t real = 0, padded = 0;
  for (std::size_t i = 0; i < loader.batches_per_epoch(); ++i) {
    const PaddedBatch p = loader.at(0, i);
    const Indices idx = loader.indices(0, i);
    for (std::size_t b = 0; b < idx.size(); ++b) {
      CHECK(p.lengths[b] == lengths[idx[b]]);
      CHECK(p.ids(0, b) == std::int64_t(idx[b]));
    }
    real += std::accumulate(p.lengths.begin(), p.lengths.end(), std::size_t(0));
    padded += p.ids.size();
    CHECK(std::accumulate(p.mask.begin(), p.mask.end(), 0.0) == double(std::accumulate(p.lengths.begin(), p.lengths.end(), std::size_t(0))));
  }
  CHECK(double(padded) / double(real) < 1.25);  // unbucketed batches of 8 over lengths 1..40: about 1.6
}

TEST_CASE("loader: errors name the problem", "[datasets][loader]") {
  const Points points = some_points(5);
  CHECK_THROWS_WITH(BatchOrder(0, options(4)), Contains("the dataset is empty"));
  CHECK_THROWS_WITH(Loader(points, options(0), collate_points), Contains("batch size 0"));
  LoaderOptions o = options(8);
  o.drop_last = true;
  CHECK_THROWS_WITH(Loader(points, o, collate_points), Contains("drop_last with batch 8 > 5 examples leaves no batch"));
  o = options(2);
  o.bucket_pool = 50;
  CHECK_THROWS_WITH(Loader(points, o, collate_points, {1, 2, 3}), Contains("3 lengths for 5 examples"));
  CHECK_THROWS_WITH(Loader(points, o, collate_points), Contains("bucket_pool 50 needs the examples' lengths"));
  o.shuffle = false;
  CHECK_THROWS_WITH(Loader(points, o, collate_points, {1, 2, 3, 4, 5}), Contains("bucket_pool 50 needs shuffle"));

  Loader loader(points, options(2), collate_points);
  CHECK_THROWS_WITH(loader.at(0, 3), Contains("batch 3 of an epoch of 3 batches"));
  CHECK_THROWS_WITH(loader.range(5, 1), Contains("range: example 5 of a dataset of 5"));
  CHECK_THROWS_WITH(loader.range(0, 0), Contains("range of 0 examples"));
  CHECK_THROWS_WITH(loader.collate({1, 9}), Contains("stack_examples: example 9 of a dataset of 5"));
  CHECK_THROWS_WITH(loader.shard(2, 2), Contains("shard rank 2 of 2 ranks"));

  struct Ragged {
    std::vector<std::vector<float>> v{{1, 2}, {3}};
    std::size_t size() const { return v.size(); }
    const std::vector<float>& get(std::size_t i) const { return v.at(i); }
  } ragged;
  CHECK_THROWS_WITH(stack_examples<float>(ragged, {0, 1}), Contains("example 1 has shape (1,), example 0 (2,)"));
}

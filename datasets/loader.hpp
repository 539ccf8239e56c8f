// Batches from a dataset, split the way PyTorch's Dataset/DataLoader split
// them: which examples go together (BatchOrder) and how a list of them
// becomes tensors (a collate function).
//
// A dataset is any type with
//   std::size_t size() const;         the number of examples
//   Example get(std::size_t i) const; example i, any type (best a view into
//                                     the dataset's storage: no copy)
// The loader calls size(); the collate function, collate(dataset, indices),
// makes one batch from the index list. It may read get(i), or the dataset's
// storage directly as mnist_batch does: one pass over the batch, no copy of
// an example on the way.
//
//   struct Pairs {                        // a user's own dataset
//     std::vector<float> x, y;
//     std::size_t size() const { return x.size(); }
//     std::pair<float, float> get(std::size_t i) const { return {x.at(i), y.at(i)}; }
//   };
//   auto collate = [](const Pairs& d, const std::vector<std::size_t>& idx) { ... return batch; };
//   data::LoaderOptions o;
//   o.batch = 32;
//   data::Loader loader(pairs, o, collate);
//   trainer.fit([&](const train::Batch& b) { return loss(loader.at(b.epoch, b.index)); }, ...);
//
// Batch `index` of epoch `epoch` is a function of the seed and those two
// numbers alone, so the Trainer's position (train::Batch's epoch and index,
// saved in its checkpoint) is the loader's too: a resumed run gets the
// batches of an unbroken one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/sampler.hpp>

namespace tg::data {

struct LoaderOptions {
  LoaderOptions() = default;
  // The common case in one line: LoaderOptions(64, seed).
  LoaderOptions(std::size_t batch_size, std::uint64_t seed_) : batch(batch_size), seed(seed_) {}

  std::size_t batch = 32;
  // A new order each epoch: EpochSampler(n, batch, seed)'s exact sequence.
  // false: examples 0, 1, 2, ... in every epoch.
  bool shuffle = true;
  bool drop_last = false;  // drop an epoch's smaller batch (n % batch examples), if any
  std::uint64_t seed = 1;
  // > 0 (with shuffle and the examples' lengths): length_buckets with pools
  // of this many batches, so a batch holds sequences of similar length and
  // pads little. Epoch e draws from SplitMix64(seed * 0x9E3779B97F4A7C15 +
  // 17 + e * 0xD1B54A32D192ED03): slot_filling's batches, bit for bit, at 50.
  std::size_t bucket_pool = 0;
};

// Which examples make batch `index` of epoch `epoch`. Batches hold `batch`
// examples; without drop_last an epoch's smaller batch (the last one, or
// with buckets one anywhere in the epoch) holds the rest, so each example is
// seen once an epoch. The current epoch's order is cached: reading batches
// in order costs one shuffle an epoch, any other position replays from the
// seed.
class BatchOrder {
 public:
  // n examples; `lengths` (n of them) are needed by bucket_pool only.
  // Errors name the problem: no examples, batch 0, no batch left by
  // drop_last, a lengths count other than n, bucket_pool without lengths
  // or without shuffle.
  BatchOrder(std::size_t n, const LoaderOptions& options, std::vector<std::size_t> lengths = {});

  std::size_t size() const { return n_; }
  std::size_t batches_per_epoch() const { return batches_; }
  const LoaderOptions& options() const { return options_; }

  // The example indices of that batch: after shard(), this rank's share.
  std::vector<std::size_t> at(std::size_t epoch, std::size_t index);

  // From now on at() gives rank `rank`'s contiguous part of each batch,
  // split over `ranks` as DataParallel splits it (parallel::share_of: the
  // first batch % ranks ranks take one example more). Every rank walks the
  // same batches, so the parts partition each batch; a part may be empty
  // when a batch is smaller than `ranks`. (DataParallel::shard(global)
  // does the same and also weighs the rank's loss; use one or the other.)
  void shard(std::size_t rank, std::size_t ranks);

 private:
  std::vector<std::size_t> global(std::size_t epoch, std::size_t index);

  LoaderOptions options_;
  std::size_t n_, batches_;
  std::vector<std::size_t> lengths_;
  std::optional<EpochSampler> sampler_;         // shuffle without buckets
  std::vector<std::vector<std::size_t>> pool_;  // buckets: the batches of epoch `pool_epoch_`
  std::optional<std::size_t> pool_epoch_;
  std::size_t rank_ = 0, ranks_ = 1;
};

namespace detail {
template <class D, class = void>
struct has_size : std::false_type {};
template <class D>
struct has_size<D, std::void_t<decltype(std::size_t(std::declval<const D&>().size()))>> : std::true_type {};
// "loader: <who>: example 12 of a dataset of 10" unless i < n.
void check_index(const char* who, std::size_t i, std::size_t n);
}  // namespace detail

// A dataset's batches: at(epoch, index) == collate(dataset, indices(epoch, index)).
// Collate: Batch(const Dataset&, const std::vector<std::size_t>&), e.g.
// mnist_batch, imdb_batch, slots::make_batch, or a lambda of one's own.
template <class Dataset, class Collate>
class Loader {
  static_assert(detail::has_size<Dataset>::value, "a dataset needs std::size_t size() const (and get(i))");

 public:
  // Keeps a pointer to `data`, which must outlive the loader.
  Loader(const Dataset& data, const LoaderOptions& options, Collate collate, std::vector<std::size_t> lengths = {})
      : data_(&data), order_(data.size(), options, std::move(lengths)), collate_(std::move(collate)) {}
  Loader(const Dataset&& data, const LoaderOptions&, Collate, std::vector<std::size_t> = {}) = delete;  // would dangle

  auto at(std::size_t epoch, std::size_t index) { return collate_(*data_, order_.at(epoch, index)); }
  std::vector<std::size_t> indices(std::size_t epoch, std::size_t index) { return order_.at(epoch, index); }

  // Any index list as a batch (e.g. the share DataParallel::shard returns).
  auto collate(const std::vector<std::size_t>& idx) const { return collate_(*data_, idx); }

  // Examples begin .. begin+count-1 in order, clipped at the end: evaluation
  // in chunks. Unsharded. An error when begin is past the end or count is 0.
  auto range(std::size_t begin, std::size_t count) const {
    detail::check_index("range", begin, size());
    if (count == 0) throw Error("loader: range of 0 examples from " + std::to_string(begin));
    std::vector<std::size_t> idx(std::min(count, size() - begin));
    for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = begin + k;
    return collate_(*data_, idx);
  }

  std::size_t batches_per_epoch() const { return order_.batches_per_epoch(); }
  std::size_t size() const { return data_->size(); }
  const Dataset& dataset() const { return *data_; }
  void shard(std::size_t rank, std::size_t ranks) { order_.shard(rank, ranks); }

 private:
  const Dataset* data_;
  BatchOrder order_;
  Collate collate_;
};

// ---- Collate helpers ------------------------------------------------------

// A view of `size` values kept elsewhere (a sequence's tokens, an image's
// pixels): what a dataset's get(i) can return instead of a copy.
template <class T>
class Span {
 public:
  Span(const T* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t size() const { return size_; }
  const T* data() const { return data_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  const T* data_;
  std::size_t size_;
};

namespace detail {
// The example itself (pad_sequences' and stack_examples' default part).
struct Whole {
  template <class E>
  const E& operator()(const E& e) const { return e; }
};
}  // namespace detail

// Right: tokens from step 0, padding after them (a tagger's layout).
// Left: padding first, so every sequence ends at step T-1 and a classifier
// reads the last state (imdb's layout).
enum class Pad { Right, Left };

struct PadOptions {
  Pad side = Pad::Right;
  std::int64_t pad_id = 0;
  std::size_t length = 0;  // T; 0: the batch's longest sequence. Longer is an error.
};

struct PaddedBatch {
  Tensor<std::int64_t> ids;          // (T, B) time-major, pad_id on padding
  Tensor<float> mask;                // (T, B) 1 on tokens, 0 on padding
  std::vector<std::size_t> lengths;  // (B) tokens of each sequence
};

// An (T, B) batch whose ids are all pad_id and whose mask marks `lengths`:
// what pad_sequences fills. Errors: no sequences, all empty, one longer
// than options.length.
PaddedBatch padded_batch(std::vector<std::size_t> lengths, const PadOptions& options);

// The token sequences tokens(data.get(i)) of the examples `idx`, padded
// into one batch. A sequence is anything with size() and begin()/end() over
// integers (std::vector<int>, Span<std::int32_t>, ...); `tokens` picks it
// out of an example (default: the example is the sequence).
template <class Dataset, class Tokens = detail::Whole>
PaddedBatch pad_sequences(const Dataset& data, const std::vector<std::size_t>& idx, const PadOptions& options = {},
                          Tokens tokens = {}) {
  std::vector<std::size_t> lengths;
  lengths.reserve(idx.size());
  for (std::size_t i : idx) {
    detail::check_index("pad_sequences", i, data.size());
    const auto& example = data.get(i);
    lengths.push_back(std::size_t(tokens(example).size()));
  }
  PaddedBatch out = padded_batch(std::move(lengths), options);
  const std::size_t T = out.ids.shape()[0], B = idx.size();
  std::int64_t* x = out.ids.data();
  for (std::size_t b = 0; b < B; ++b) {
    const auto& example = data.get(idx[b]);
    const auto& seq = tokens(example);
    std::size_t t = options.side == Pad::Left ? T - out.lengths[b] : 0;
    for (const auto& v : seq) x[t++ * B + b] = std::int64_t(v);
  }
  return out;
}

namespace detail {
template <class E, class = void>
struct has_shape : std::false_type {};
template <class E>
struct has_shape<E, std::void_t<decltype(std::declval<const E&>().shape())>> : std::true_type {};
template <class E>
Shape shape_of(const E& e) {
  if constexpr (has_shape<E>::value) return to_shape(e.shape());
  else return Shape{std::size_t(e.size())};
}
// "loader: stack_examples: example 7 has shape (4,), example 2 (3,)".
[[noreturn]] void shape_mismatch(std::size_t i, const Shape& shape, std::size_t first, const Shape& expected);
}  // namespace detail

// Fixed-shape examples part(data.get(i)) stacked in index order: a tensor
// (B, shape...). A part is an xtensor expression or anything with size()
// and begin()/end() (then its shape is (size,)); every part must have the
// first one's shape.
template <class T, class Dataset, class Part = detail::Whole>
Tensor<T> stack_examples(const Dataset& data, const std::vector<std::size_t>& idx, Part part = {}) {
  if (idx.empty()) throw Error("loader: stack_examples: no examples");
  Shape shape;
  Tensor<T> out;
  T* x = nullptr;
  for (std::size_t b = 0; b < idx.size(); ++b) {
    detail::check_index("stack_examples", idx[b], data.size());
    const auto& example = data.get(idx[b]);
    const auto& p = part(example);
    if (b == 0) {
      shape = detail::shape_of(p);
      Shape full{idx.size()};
      full.insert(full.end(), shape.begin(), shape.end());
      out = Tensor<T>::from_shape(full);
      x = out.data();
    } else if (detail::shape_of(p) != shape) {
      detail::shape_mismatch(idx[b], detail::shape_of(p), idx[0], shape);
    }
    for (const auto& v : p) *x++ = T(v);
  }
  return out;
}

}  // namespace tg::data

// The batch orders and the padding behind loader.hpp.
#include <tapegrad/datasets/loader.hpp>

#include <algorithm>

namespace tg::data {
namespace {

std::string str(std::size_t v) { return std::to_string(v); }

}  // namespace

BatchOrder::BatchOrder(std::size_t n, const LoaderOptions& options, std::vector<std::size_t> lengths)
    : options_(options), n_(n), lengths_(std::move(lengths)) {
  if (n == 0) throw Error("loader: the dataset is empty (size() is 0)");
  if (options.batch == 0) throw Error("loader: batch size 0");
  if (!lengths_.empty() && lengths_.size() != n)
    throw Error("loader: " + str(lengths_.size()) + " lengths for " + str(n) + " examples");
  if (options.bucket_pool > 0 && lengths_.empty())
    throw Error("loader: bucket_pool " + str(options.bucket_pool) + " needs the examples' lengths");
  if (options.bucket_pool > 0 && !options.shuffle)
    throw Error("loader: bucket_pool " + str(options.bucket_pool) + " needs shuffle (buckets are drawn at random)");
  batches_ = options.drop_last ? n / options.batch : (n + options.batch - 1) / options.batch;
  if (batches_ == 0)
    throw Error("loader: drop_last with batch " + str(options.batch) + " > " + str(n) +
                " examples leaves no batch");
  if (options.shuffle && options.bucket_pool == 0) sampler_.emplace(n, options.batch, options.seed);
}

std::vector<std::size_t> BatchOrder::global(std::size_t epoch, std::size_t index) {
  if (index >= batches_)
    throw Error("loader: batch " + str(index) + " of an epoch of " + str(batches_) + " batches");
  if (sampler_) return sampler_->at(epoch, index);  // drop_last: the last, smaller batch is never asked for
  if (!options_.shuffle) {
    std::vector<std::size_t> idx(std::min(options_.batch, n_ - index * options_.batch));
    for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = index * options_.batch + k;
    return idx;
  }
  if (pool_epoch_ != epoch) {
    // slot_filling's BatchPlan: a generator per epoch, from the seed and the epoch alone.
    SplitMix64 rng(options_.seed * 0x9E3779B97F4A7C15ULL + 17 + epoch * 0xD1B54A32D192ED03ULL);
    pool_ = length_buckets(lengths_, options_.batch, rng, options_.bucket_pool);
    if (options_.drop_last)
      pool_.erase(std::remove_if(pool_.begin(), pool_.end(),
                                 [&](const auto& b) { return b.size() < options_.batch; }),
                  pool_.end());
    pool_epoch_ = epoch;
  }
  return pool_[index];
}

std::vector<std::size_t> BatchOrder::at(std::size_t epoch, std::size_t index) {
  std::vector<std::size_t> all = global(epoch, index);
  if (ranks_ == 1) return all;
  // parallel::share_of's split: the first all.size() % ranks_ ranks take one more.
  const std::size_t base = all.size() / ranks_, extra = all.size() % ranks_;
  const std::size_t begin = rank_ * base + std::min(rank_, extra), count = base + (rank_ < extra ? 1 : 0);
  return {all.begin() + std::ptrdiff_t(begin), all.begin() + std::ptrdiff_t(begin + count)};
}

void BatchOrder::shard(std::size_t rank, std::size_t ranks) {
  if (ranks == 0 || rank >= ranks) throw Error("loader: shard rank " + str(rank) + " of " + str(ranks) + " ranks");
  rank_ = rank;
  ranks_ = ranks;
}

namespace detail {

void check_index(const char* who, std::size_t i, std::size_t n) {
  if (i >= n) throw Error(std::string("loader: ") + who + ": example " + str(i) + " of a dataset of " + str(n));
}

void shape_mismatch(std::size_t i, const Shape& shape, std::size_t first, const Shape& expected) {
  throw Error("loader: stack_examples: example " + str(i) + " has shape " + shape_str(shape) + ", example " +
              str(first) + " " + shape_str(expected));
}

}  // namespace detail

PaddedBatch padded_batch(std::vector<std::size_t> lengths, const PadOptions& options) {
  if (lengths.empty()) throw Error("loader: pad_sequences: no sequences");
  const std::size_t longest = *std::max_element(lengths.begin(), lengths.end());
  if (longest == 0) throw Error("loader: pad_sequences: every sequence is empty");
  if (options.length > 0 && longest > options.length) {
    const std::size_t b = std::size_t(std::max_element(lengths.begin(), lengths.end()) - lengths.begin());
    throw Error("loader: pad_sequences: sequence " + str(b) + " of the batch has " + str(longest) +
                " tokens, more than length " + str(options.length));
  }
  const std::size_t T = options.length > 0 ? options.length : longest, B = lengths.size();
  PaddedBatch out{Tensor<std::int64_t>::from_shape({T, B}), zeros<float>(Shape{T, B}), std::move(lengths)};
  out.ids.fill(options.pad_id);
  float* m = out.mask.data();
  for (std::size_t b = 0; b < B; ++b) {
    const std::size_t first = options.side == Pad::Left ? T - out.lengths[b] : 0;
    for (std::size_t t = first; t < first + out.lengths[b]; ++t) m[t * B + b] = 1.0f;
  }
  return out;
}

}  // namespace tg::data

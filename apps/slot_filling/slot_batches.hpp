// The training batches of slot_filling: which sentences make each batch of
// an epoch (BatchPlan, over length_buckets of datasets/sampler.hpp) and this
// rank's share of one under mpirun (token_share). Kept apart from the run so
// that a data loader can take their place (issue 23).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tapegrad/datasets/slots/batch.hpp>
#include <tapegrad/parallel/data_parallel.hpp>

namespace tg::slotapp {

// The batches of any epoch, from the seed and the epoch alone (a resumed
// run gets those of the uninterrupted one); the current epoch's are cached.
class BatchPlan {
 public:
  // `buckets`: batches of similar lengths (length_buckets), else random ones.
  BatchPlan(const slots::EncodedSplit& train, std::size_t batch, bool buckets, std::uint64_t seed);
  // The sentence indices of batch `index` of epoch `epoch`.
  const std::vector<std::size_t>& at(std::size_t epoch, std::size_t index);
  std::size_t batches_per_epoch() const { return batches_.size(); }

 private:
  std::vector<std::size_t> lengths_;
  std::size_t batch_;
  bool buckets_;
  std::uint64_t seed_;
  std::size_t epoch_ = 0;
  std::vector<std::vector<std::size_t>> batches_;
};

// This rank's share of a training batch `whole` (the sentences `global`,
// word dropout already drawn on the whole batch, so that N processes train
// on the words one process would): its contiguous sentences, padded to their
// own longest. The loss is a mean over tokens, so the share's weight, set on
// `ddp`, is its tokens over the batch's.
slots::Batch token_share(parallel::DataParallel<float>& ddp, const slots::EncodedSplit& train_set,
                         const std::vector<std::size_t>& global, const slots::Batch& whole);

}  // namespace tg::slotapp

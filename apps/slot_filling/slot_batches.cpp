#include "apps/slot_filling/slot_batches.hpp"

#include "apps/slot_filling/slot_app.hpp"

namespace tg::slotapp {

BatchPlan::BatchPlan(const slots::EncodedSplit& train, std::size_t batch, bool buckets, std::uint64_t seed)
    : batch_(batch), buckets_(buckets), seed_(seed) {
  for (const auto& w : train.words) lengths_.push_back(w.size());
  at(0, 0);
}

const std::vector<std::size_t>& BatchPlan::at(std::size_t epoch, std::size_t index) {
  if (epoch != epoch_ || batches_.empty()) {
    slots::Rng rng(seed_ * 0x9E3779B97F4A7C15ULL + 17 + epoch * 0xD1B54A32D192ED03ULL);
    batches_ = buckets_ ? length_buckets(lengths_, batch_, rng)
                        : slots::batch_indices(lengths_.size(), batch_, &rng);
    epoch_ = epoch;
  }
  return batches_.at(index);
}

slots::Batch token_share(parallel::DataParallel<float>& ddp, const slots::EncodedSplit& train_set,
                         const std::vector<std::size_t>& global, const slots::Batch& whole) {
  const parallel::Range r = parallel::share_of(global.size(), ddp.rank(), ddp.size());
  slots::Batch mine = slots::make_batch(train_set, ddp.shard(global));
  std::size_t tokens = 0, all = 0;
  for (std::size_t c = 0; c < global.size(); ++c) {
    all += whole.lengths[c];
    if (c >= r.begin && c < r.begin + r.count) tokens += whole.lengths[c];
  }
  const std::size_t first = r.count ? r.begin : 0;  // an empty share holds sentence 0, weight 0
  for (std::size_t c = 0; c < mine.lengths.size(); ++c)
    for (std::size_t t = 0; t < mine.lengths[c]; ++t) mine.words(t, c) = whole.words(t, first + c);
  ddp.set_share(tokens, all);
  return mine;
}

}  // namespace tg::slotapp

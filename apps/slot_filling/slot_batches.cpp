#include "apps/slot_filling/slot_batches.hpp"

#include "apps/slot_filling/slot_app.hpp"

namespace tg::slotapp {

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

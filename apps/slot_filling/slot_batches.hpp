// This rank's share of one of slot_filling's training batches under mpirun
// (token_share): the batches themselves come from a data::Loader with length
// buckets (slot_run.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tapegrad/datasets/slots/batch.hpp>
#include <tapegrad/parallel/data_parallel.hpp>

namespace tg::slotapp {

// This rank's share of a training batch `whole` (the sentences `global`,
// word dropout already drawn on the whole batch, so that N processes train
// on the words one process would): its contiguous sentences, padded to their
// own longest. The loss is a mean over tokens, so the share's weight, set on
// `ddp`, is its tokens over the batch's.
slots::Batch token_share(parallel::DataParallel<float>& ddp, const slots::EncodedSplit& train_set,
                         const std::vector<std::size_t>& global, const slots::Batch& whole);

}  // namespace tg::slotapp

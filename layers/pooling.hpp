// Pooling a sequence over time: (T, B, F) -> (B, F), padded steps left out.
// A classifier over a whole sequence (IMDB's review) may read more than the
// recurrent layer's final state: the largest value of each feature over the
// steps (max), or their average (mean). Every step then gets a gradient from
// the loss directly instead of only through the recurrence.
//
//   Tensor<float> mask = sequence_mask<float>(lengths, T, /*left_padded=*/true);
//   Var<float> h = max_over_time(out.output, mask);   // (B, F)
//
// `mask` is (T, B): nonzero on a sequence's real steps. A sequence with no
// real step pools to zeros (and passes no gradient), never to -inf or NaN.
// PyTorch: x.masked_fill(~m[..., None], -inf).amax(0) and
// (x * m[..., None]).sum(0) / m.sum(0)[:, None].
#pragma once

#include <string>

#include <tapegrad/autograd/autograd.hpp>

namespace tg {

enum class TimePool { last, max, mean };

// "last", "max", "mean" and back; parse throws tg::Error naming the text.
TimePool parse_time_pool(const std::string& name);
std::string to_string(TimePool pool);

// Per feature, the largest value over the real steps.
template <class T> Var<T> max_over_time(const Var<T>& sequence, const Tensor<T>& mask);
// Per feature, the mean over the real steps.
template <class T> Var<T> mean_over_time(const Var<T>& sequence, const Tensor<T>& mask);

}  // namespace tg

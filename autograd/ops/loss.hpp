// The losses, and the definitions of the softmax family. Each is fused (one
// record) because composing it from exp/sum/log is slower and loses
// precision for large logits.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <tapegrad/autograd/ids.hpp>
#include <tapegrad/autograd/ops/elementwise.hpp>
#include <tapegrad/autograd/tape.hpp>

namespace tg {

// softmax, log_softmax and masked_softmax are declared with the activations
// in ops/elementwise.hpp (included here, so either header finds them) and
// defined here, beside the cross-entropy that shares their kernel.

// Mean cross-entropy of logits (..., C) against integer class targets, one
// per row (targets.size() = number of rows; any integer type, from a
// std::vector, an xtensor array or a Tensor: see IdList). With weights (one
// per row; 0 for padded positions) the loss is sum_i w_i nll_i / sum_i w_i,
// and rows of weight 0 are skipped entirely (their target is not even read).
// With an ignore_index (PyTorch's; none by default), the rows whose target
// equals it count as weight 0: no loss, no gradient, and the mean is over the
// other rows: cross_entropy(logits, targets, {}, -100).
// When nothing counts (all rows ignored or of weight 0) the loss is 0 and no
// gradient flows (PyTorch gives NaN for all ignored).
//   dlogits_i = dy w_i / W (softmax(logits_i) - onehot(t_i))
template <class T>
Var<T> cross_entropy(const Var<T>& logits, const IdList& targets, const std::vector<T>& weights = {},
                     std::optional<std::int64_t> ignore_index = std::nullopt);

// Mean binary cross-entropy of logits x against targets t in [0, 1] (same
// shape), computed stably as max(x,0) - x t + log(1 + exp(-|x|)); optional
// weights (flat, one per element) as for cross_entropy.
//   dx = dy w / W (sigmoid(x) - t)
template <class T>
Var<T> bce_with_logits(const Var<T>& logits, const Tensor<T>& targets,
                       const std::vector<T>& weights = {});

// Mean squared error mean((a - b)^2) over all elements, a and b of one shape.
template <class T> Var<T> mse(const Var<T>& a, const Var<T>& b);

}  // namespace tg

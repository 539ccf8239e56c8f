// Choices from scores: argmax, topk, accuracy, sampling. None of them is
// differentiable: they return Tensors, not Vars, and record nothing on the
// tape (for a pick that carries a gradient use index_select). Each takes a
// Var (its value is read) or a Tensor.
#pragma once

#include <cstdint>
#include <optional>

#include <tapegrad/autograd/ids.hpp>
#include <tapegrad/autograd/random.hpp>
#include <tapegrad/autograd/tape.hpp>

namespace tg {

// The index of the largest entry along `axis` (negative counts from the
// end); shape = x's without that axis. At a tie the first index wins, and a
// NaN counts as the largest (as numpy and PyTorch).
template <class T> Tensor<std::int64_t> argmax(const Tensor<T>& x, int axis = -1);
template <class T> Tensor<std::int64_t> argmax(const Var<T>& x, int axis = -1) {
  return argmax(x.value(), axis);
}

// The k largest entries along `axis` and their indices, sorted descending;
// shape = x's with extent k on that axis. Equal values keep their index
// order; NaN counts as the largest. k larger than the extent throws.
template <class T>
struct TopK {
  Tensor<T> values;
  Tensor<std::int64_t> indices;
};
template <class T> TopK<T> topk(const Tensor<T>& x, std::size_t k, int axis = -1);
template <class T> TopK<T> topk(const Var<T>& x, std::size_t k, int axis = -1) {
  return topk(x.value(), k, axis);
}

// The fraction of rows of scores (..., C) whose argmax over the last axis
// equals the row's label (labels: one per row, any integer type; see IdList).
// Rows whose label equals ignore_index are not counted. A label outside
// [0, C) that is not ignored throws naming its row, as does nothing to count
// (no rows, or all ignored).
template <class T>
double accuracy(const Tensor<T>& scores, const IdList& labels,
                std::optional<std::int64_t> ignore_index = std::nullopt);
template <class T>
double accuracy(const Var<T>& scores, const IdList& labels,
                std::optional<std::int64_t> ignore_index = std::nullopt) {
  return accuracy(scores.value(), labels, ignore_index);
}

// One class per row of probs (..., C), drawn with probability proportional to
// the row's entries (they need not sum to 1); shape = probs' without the last
// axis. A negative or NaN entry, or a row of zeros, throws naming the row.
template <class T> Tensor<std::int64_t> multinomial(const Tensor<T>& probs, Rng& rng);
template <class T> Tensor<std::int64_t> multinomial(const Var<T>& probs, Rng& rng) {
  return multinomial(probs.value(), rng);
}

// One class per row of logits (..., C), drawn from softmax(logits / temperature):
// multinomial over e^((x - max x) / temperature). The temperature must be
// positive and finite (else throws): a low one concentrates the draws on the
// argmax but never becomes argmax itself; for greedy decoding call argmax.
template <class T>
Tensor<std::int64_t> sample(const Tensor<T>& logits, Rng& rng, double temperature = 1);
template <class T>
Tensor<std::int64_t> sample(const Var<T>& logits, Rng& rng, double temperature = 1) {
  return sample(logits.value(), rng, temperature);
}

}  // namespace tg

// Ops that move values around without arithmetic: reshape, unsqueeze,
// squeeze, slice, select, concat, stack, split, detach, index_select. Their
// backward routes each gradient element back to where its value came from
// (summing where one value went twice).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include <tapegrad/autograd/ids.hpp>
#include <tapegrad/autograd/tape.hpp>

namespace tg {

// y = a with shape `shape` (same number of elements).  da = dy reshaped.
template <class T> Var<T> reshape(const Var<T>& a, const Shape& shape);

// y = a with a new axis of extent 1 inserted at `axis`, in [-(rank+1), rank]
// (-1 appends it).                 da = dy reshaped
template <class T> Var<T> unsqueeze(const Var<T>& a, int axis);
// y = a without `axis`, whose extent must be 1.   da = dy reshaped
template <class T> Var<T> squeeze(const Var<T>& a, int axis);

// y = a[..., begin:end, ...] along `axis` (negative counts from the end).
template <class T> Var<T> slice(const Var<T>& a, int axis, std::size_t begin, std::size_t end);

// y = a[t]: one index along the first axis, which is dropped (time step t
// of a (time, batch, features) sequence). One copy, where slice + reshape
// would make two.
template <class T> Var<T> select(const Var<T>& a, std::size_t t);

// y = the inputs joined along an existing axis; all other extents equal.
// The brace form, concat({h, ctx}, 1), takes T from the Vars.
template <class T> Var<T> concat(const std::vector<Var<T>>& xs, int axis);
template <class T> Var<T> concat(std::initializer_list<Var<T>> xs, int axis) {
  return concat(std::vector<Var<T>>(xs), axis);
}

// y = the inputs (all of one shape) joined along a new axis at `axis`.
template <class T> Var<T> stack(const std::vector<Var<T>>& xs, int axis);
template <class T> Var<T> stack(std::initializer_list<Var<T>> xs, int axis) {
  return stack(std::vector<Var<T>>(xs), axis);
}

// The pieces of a along `axis`, of the given extents (summing to a's extent).
template <class T>
std::vector<Var<T>> split(const Var<T>& a, int axis, const std::vector<std::size_t>& sizes);
// The same, into `parts` equal pieces (an LSTM's four gates from one matmul).
template <class T> std::vector<Var<T>> split(const Var<T>& a, int axis, std::size_t parts);

// y = a's value as a constant leaf: no gradient flows back through y
// (PyTorch's a.detach()). The value is copied.          da = 0
template <class T> Var<T> detach(const Var<T>& a);

// Rows of a picked by index: y[i...] = a[indices[i...]], y.shape =
// indices.shape + a.shape[1:]. Repeated indices accumulate in the backward;
// rows whose index equals `no_grad_index` (a padding id) get no gradient.
template <class T>
Var<T> index_select(const Var<T>& a, const std::int64_t* indices, const Shape& indices_shape,
                    std::int64_t no_grad_index = -1);
// The same, for ids of any integer type in a std::vector, an xtensor array or
// a Tensor (see IdList): an id that is negative, too large for int64 or not a
// row throws naming it and its position.
template <class T>
Var<T> index_select(const Var<T>& a, const IdList& indices, std::int64_t no_grad_index = -1) {
  return index_select(a, indices.data("index_select"), indices.shape(), no_grad_index);
}

// `axis` as a non-negative axis of a rank-`rank` tensor; throws naming `op`.
std::size_t normalize_axis(const char* op, int axis, std::size_t rank);

}  // namespace tg

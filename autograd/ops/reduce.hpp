// Reductions. Over all elements the result is 0-d (one element); over an
// axis the axis is dropped, or kept with extent 1 when keepdims.
#pragma once

#include <tapegrad/autograd/tape.hpp>

namespace tg {

// y = sum of all elements                    da = dy broadcast
template <class T> Var<T> sum(const Var<T>& a);
// y = sum along axis                         da = dy broadcast along axis
template <class T> Var<T> sum(const Var<T>& a, int axis, bool keepdims = false);
// y = mean of all elements / along axis      da = dy / n broadcast
template <class T> Var<T> mean(const Var<T>& a);
template <class T> Var<T> mean(const Var<T>& a, int axis, bool keepdims = false);
// y = max along axis. The gradient goes to the first maximal element.
template <class T> Var<T> max(const Var<T>& a, int axis, bool keepdims = false);
// y = m + log(sum(exp(a - m))) along axis, m the maximum along it: stable
// for large a (a row of -inf gives -inf, and no gradient).
//   da = dy exp(a - y) = dy softmax(a) along axis
template <class T> Var<T> logsumexp(const Var<T>& a, int axis, bool keepdims = false);

}  // namespace tg

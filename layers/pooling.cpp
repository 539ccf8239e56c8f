#include <tapegrad/layers/pooling.hpp>

#include <limits>

namespace tg {
namespace {

// The mask checked against the sequence, as (T, B, 1) for broadcasting.
template <class T>
Tensor<T> steps_mask(const char* op, const Var<T>& sequence, const Tensor<T>& mask) {
  const auto& s = sequence.value().shape();
  if (s.size() != 3 || mask.dimension() != 2 || mask.shape()[0] != s[0] || mask.shape()[1] != s[1])
    throw Error(std::string(op) + ": a sequence (T, B, F) and a mask (T, B), got " +
                shape_str(s) + " and " + shape_str(mask.shape()));
  Tensor<T> m = mask;
  m.reshape({s[0], s[1], 1});
  return m;
}

// (B, 1): how many real steps each sequence has.
template <class T>
Tensor<T> real_steps(const Tensor<T>& mask3) {
  Tensor<T> n = xt::zeros<T>({mask3.shape()[1], std::size_t(1)});
  for (std::size_t t = 0; t < mask3.shape()[0]; ++t)
    for (std::size_t b = 0; b < mask3.shape()[1]; ++b) n(b, 0) += mask3(t, b, 0) != 0 ? 1 : 0;
  return n;
}

}  // namespace

TimePool parse_time_pool(const std::string& name) {
  if (name == "last") return TimePool::last;
  if (name == "max") return TimePool::max;
  if (name == "mean") return TimePool::mean;
  throw Error("unknown pooling '" + name + "' (last, max or mean)");
}

std::string to_string(TimePool pool) {
  switch (pool) {
    case TimePool::last: return "last";
    case TimePool::max: return "max";
    case TimePool::mean: return "mean";
  }
  return "?";
}

template <class T>
Var<T> max_over_time(const Var<T>& sequence, const Tensor<T>& mask) {
  const Tensor<T> m = steps_mask("max_over_time", sequence, mask);
  const Tensor<T> padded = xt::equal(m, T(0));
  // lowest(), not -inf: a padded step never wins, and no inf enters the sums.
  const Var<T> pooled = max(masked_fill(sequence, padded, std::numeric_limits<T>::lowest()), 0);
  const Tensor<T> empty = xt::equal(real_steps(m), T(0));  // (B, 1)
  return masked_fill(pooled, empty, T(0));
}

template <class T>
Var<T> mean_over_time(const Var<T>& sequence, const Tensor<T>& mask) {
  const Tensor<T> m = steps_mask("mean_over_time", sequence, mask);
  const Tensor<T> scale = T(1) / xt::maximum(real_steps(m), T(1));  // (B, 1); empty: 0 / 1
  Tape<T>& tape = sequence.tape();
  return mul(sum(mul(sequence, tape.constant(xt::not_equal(m, T(0)))), 0), tape.constant(scale));
}

template Var<float> max_over_time(const Var<float>&, const Tensor<float>&);
template Var<double> max_over_time(const Var<double>&, const Tensor<double>&);
template Var<float> mean_over_time(const Var<float>&, const Tensor<float>&);
template Var<double> mean_over_time(const Var<double>&, const Tensor<double>&);

}  // namespace tg

// Linear: y = x W + b over the last axis of x.
//   x (..., in)   W (in, out)   b (out)   y (..., out)
// W is stored (in, out) so the forward is one matmul with no transpose.
#pragma once

#include <tapegrad/layers/module.hpp>

namespace tg {

template <class T>
class Linear : public Module<T> {
 public:
  // W and b ~ U(-1/sqrt(in), 1/sqrt(in)), as PyTorch's nn.Linear.
  Linear(Tape<T>& tape, std::size_t in, std::size_t out, Rng& rng, bool bias = true);

  Var<T> forward(const Var<T>& x) const;
  Var<T> operator()(const Var<T>& x) const { return forward(x); }

  // "Linear(in_features=128, out_features=10, bias=True)"
  std::string describe() const override;
  // nn.Linear: weight (out, in), bias (out). Defined in torch_io.cpp.
  void collect_torch(const std::string& prefix, TorchState<T>& out) const override;

  Var<T> weight;
  Var<T> bias;  // undefined when built without bias
};

// Embedding: rows of a (num, dim) table picked by id. The row of
// `padding_id` starts at zero and never receives a gradient.
//   ids (...) int64   ->   y (..., dim)
template <class T>
class Embedding : public Module<T> {
 public:
  // Rows ~ N(0, 1), as PyTorch's nn.Embedding.
  Embedding(Tape<T>& tape, std::size_t num, std::size_t dim, Rng& rng,
            std::int64_t padding_id = -1);

  // ids: of any integer type, in an xt::xarray, a Tensor or a std::vector
  // (converted to int64 once by index_select; see autograd/ids.hpp).
  template <class Ids>
  Var<T> forward(const Ids& ids) const {
    return index_select(weight, ids, padding_id);
  }
  template <class Ids>
  Var<T> operator()(const Ids& ids) const {
    return forward(ids);
  }

  // "Embedding(10000, 64, padding_idx=0)"
  std::string describe() const override;
  // nn.Embedding: weight (num, dim), padding_idx. Defined in torch_io.cpp.
  void collect_torch(const std::string& prefix, TorchState<T>& out) const override;

  Var<T> weight;
  std::int64_t padding_id;
};

// Dropout as a module: zeroes each element with probability p and scales
// the rest by 1 / (1 - p) while training (Module::train), nothing in eval().
template <class T>
class Dropout : public Module<T> {
 public:
  explicit Dropout(T p = 0) : p(p) {}
  Var<T> forward(const Var<T>& x, Rng& rng) const { return dropout(x, p, this->is_training(), rng); }
  Var<T> operator()(const Var<T>& x, Rng& rng) const { return forward(x, rng); }
  std::string describe() const override;
  T p;
};

}  // namespace tg

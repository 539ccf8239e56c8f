// Var<T>: the handle users and ops hold to a node of a graph (node.hpp).
// The last Var of an op's result lets its value go unless a backward reads
// it (SavesChosen, tape.hpp).
#pragma once

#include <string>
#include <utility>

#include <tapegrad/autograd/node.hpp>
#include <tapegrad/backend/tensor.hpp>

namespace tg {

template <class T>
class Tape;

// A handle to a node: cheap to copy, shares the node.
template <class T>
class Var {
 public:
  Var() = default;
  explicit Var(NodePtr<T> node) : node_(std::move(node)) {
    if (!node_) return;
    if (node_->value_released)
      throw Error("Var: the value of this node was released (no Var held it and no backward reads it)");
    ++node_->handles;
  }
  Var(const Var& o) : node_(o.node_) {
    if (node_) ++node_->handles;
  }
  Var(Var&& o) noexcept : node_(std::move(o.node_)) {}
  Var& operator=(const Var& o) {
    Var copy(o);
    return *this = std::move(copy);
  }
  Var& operator=(Var&& o) noexcept {
    if (this != &o) {
      drop();
      node_ = std::move(o.node_);
    }
    return *this;
  }
  ~Var() { drop(); }

  const Tensor<T>& value() const { return node_->value; }
  // Writable for optimizers and initialisers; do not change the shape.
  Tensor<T>& value() { return node_->value; }
  const auto& shape() const { return node_->value.shape(); }
  std::size_t dim() const { return node_->value.dimension(); }
  std::size_t size() const { return node_->value.size(); }

  bool requires_grad() const { return node_->requires_grad; }
  // Freezes (false) or unfreezes a parameter: a leaf only (an op's result
  // requires grad when its inputs do).
  void set_requires_grad(bool on) {
    if (!node_->is_leaf())
      throw Error("set_requires_grad(): only a leaf (tape.parameter) can be frozen or unfrozen; "
                  "this value is the result of an op");
    node_->requires_grad = on;
  }
  bool has_grad() const { return node_->has_grad; }
  // The gradient accumulated by backward; throws if none reached this value.
  const Tensor<T>& grad() const {
    node_->fill_unwritten();
    if (!node_->has_grad)
      throw Error("grad(): this value has no gradient (no backward reached it" +
                  std::string(node_->requires_grad ? ")" : "; it does not require grad)"));
    return node_->grad;
  }
  // Writable: whoever writes may touch any row, so grad_rows() says nothing after.
  Tensor<T>& grad() {
    node_->note_dense();
    return const_cast<Tensor<T>&>(std::as_const(*this).grad());
  }
  // The rows noted beside the gradient (grad_rows) are cleared by its next
  // first contribution.
  void zero_grad() { node_->forget_grad(); }
  // The rows of the gradient that received anything, when only index_select
  // wrote into it (an embedding table; rows of a padding id are not
  // counted); null otherwise, and when there is no gradient.
  const GradRows* grad_rows() const {
    const GradRows* r = node_->grad_rows.get();
    return node_->has_grad && r && !r->dense ? r : nullptr;
  }
  // The value of a one-element tensor (a loss).
  T item() const {
    if (node_->value.size() != 1)
      throw Error("item(): value has shape " + shape_str(shape()) + ", not a single element");
    return node_->value.data()[0];
  }

  Tape<T>& tape() const { return *node_->tape; }
  const NodePtr<T>& node() const { return node_; }
  bool defined() const { return node_ != nullptr; }

 private:
  void drop() noexcept {
    if (node_ && --node_->handles == 0) node_->last_handle_gone();
    node_.reset();
  }
  NodePtr<T> node_;
};

}  // namespace tg

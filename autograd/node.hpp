// A value in a graph (Node) and its shared ownership (NodePtr): the value,
// its gradient and the bookkeeping every backward writes through. Users hold
// nodes through Var (tape.hpp); ops reach them through Var::node().
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <utility>

#include <xtensor/xnoalias.hpp>

#include <tapegrad/autograd/grad_rows.hpp>
#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/backend/zip.hpp>

namespace tg {

template <class T>
class Tape;

// One value in a graph. Leaves (parameters, inputs) are made by the tape;
// every other node is the result of an op.
template <class T>
struct Node {
  Node() : value(Tensor<T>::from_shape(kEmpty)), grad(Tensor<T>::from_shape(kEmpty)) {}
  explicit Node(Tensor<T>&& v) : value(std::move(v)), grad(Tensor<T>::from_shape(kEmpty)) {}
  // The shape of "no buffer"; an array, so using it allocates nothing.
  static constexpr std::array<std::size_t, 1> kEmpty{0};

  Tensor<T> value;
  Tensor<T> grad;            // meaningful only when has_grad
  bool has_grad = false;
  bool requires_grad = false;
  // A backward may read `value` (SavesChosen, tape.hpp); when false, the value of
  // an op's result is released with its last Var.
  bool saved = true;
  bool value_released = false;
  int handles = 0;  // Vars holding this node; closures are not counted
  // Rows [0, unwritten_rows) of `grad` (first axis) hold nothing yet and
  // read as zero: see first_rows_write.
  std::size_t unwritten_rows = 0;
  Tape<T>* tape = nullptr;
  std::uint64_t generation = 0;  // 0 for leaves; else the tape generation of the op
  // The rows index_select wrote into, for leaves an index_select's backward
  // reached (embedding tables); null for every other node. Every other way
  // of contributing marks it dense, so it is never wrong, only unused.
  std::unique_ptr<GradRows> grad_rows;
  // A 2-D leaf's value transposed, made at most once per backward sweep for
  // the products that read it so (dA = dY B^T as a plain product: ~20%
  // faster at the recurrent shapes, where one weight serves every step).
  std::unique_ptr<Tensor<T>> value_t;
  std::uint64_t value_t_sweep = 0;
  const T* transposed_value();

  // The one place gradients are accumulated: the first contribution is
  // copied in, later ones added, so every backward can simply contribute.
  template <class E>
  void add_grad(const E& g) {
    note_dense();
    fill_unwritten();
    if (has_grad) {
      xt::noalias(grad) += g;
    } else {
      // Reuse the buffer of an earlier step (parameters) when it fits.
      if (shapes_equal(grad, value))
        xt::noalias(grad) = g;
      else
        grad = g;
      has_grad = true;
    }
  }
  // The common case, a gradient of this node's shape, on raw loops (zip.hpp).
  void add_grad(const Tensor<T>& g) {
    if (!shapes_equal(g, value)) return add_grad<Tensor<T>>(g);
    note_dense();
    fill_unwritten();
    if (has_grad) {
      add_into(grad.data(), g.data(), g.size());
      return;
    }
    if (!shapes_equal(grad, value)) grad = Tensor<T>::from_shape(value.shape());
    std::copy_n(g.data(), g.size(), grad.data());
    has_grad = true;
  }
  // A contribution the caller will not read again (a spent gradient): taken
  // over without a copy when it is the first one.
  void add_grad_take(Tensor<T>& g) {
    fill_unwritten();
    if (!has_grad && shapes_equal(g, value)) {
      note_dense();
      grad = std::move(g);  // g is spent: its owner drops or reshapes it next
      has_grad = true;
    } else {
      add_grad(g);
    }
  }
  // Contribution with broadcasting undone: sums g down to this node's shape.
  void add_grad_sum_to(const Tensor<T>& g);
  // For backwards that add into part of the gradient by hand: the buffer,
  // zero-filled on the first contribution.
  Tensor<T>& zeroed_grad();
  // For BLAS backwards (C = alpha AB + beta C): makes the buffer the right
  // shape and returns beta, 0 on the first contribution (C is not read) or 1.
  T grad_beta();
  // zeroed_grad() for index_select into rows of this node: the rows it adds
  // into are to be noted in the result, which is reset on the first
  // contribution (the gradient was zeroed since).
  GradRows& zeroed_grad_rows();

  void note_dense() {
    if (grad_rows) grad_rows->dense = true;
  }

  // For a backward adding into rows [r0, r1) of the first axis of an op
  // result's gradient: true when the caller is to write them (nothing is
  // there yet), false when it is to add. The steps of a sequence, met in
  // reverse by backward, each write their own rows below the last ones, so
  // a (T*B, 4H) gradient is never zero-filled as a whole: only gaps are.
  bool first_rows_write(std::size_t r0, std::size_t r1);
  // Zero-fills the unwritten rows; every other access does this first.
  void fill_unwritten() {
    if (unwritten_rows) fill_unwritten_rows();
  }
  // No gradient from here on; drop_grad hands the buffer back too.
  void forget_grad() {
    has_grad = false;
    unwritten_rows = 0;
  }
  void drop_grad() {
    grad.resize(kEmpty);
    forget_grad();
  }

  // Called when the last Var lets go. The shape stays (backwards size their
  // gradients by it); the storage goes back to the block cache, where the
  // next result of the same size finds it warm.
  void last_handle_gone() noexcept {
    if (saved || generation == 0 || value_released) return;
    typename Tensor<T>::storage_type().swap(value.storage());
    value_released = true;
  }

 private:
  Tensor<T>& zero_filled_grad();
  void fill_unwritten_rows();
};

// The shared ownership of a node. A graph belongs to one thread (its tape),
// so the counts need no atomic updates: with libstdc++ its single-threaded
// policy is used (an op on a tiny tensor spent a quarter of its time in the
// seven atomic updates of its closure's captures).
#if defined(__GLIBCXX__)
template <class T>
using NodePtr = std::__shared_ptr<Node<T>, __gnu_cxx::_S_single>;
template <class T>
using WeakNodePtr = std::__weak_ptr<Node<T>, __gnu_cxx::_S_single>;
template <class T>
NodePtr<T> make_node(Tensor<T>&& value) {
  return std::__allocate_shared<Node<T>, __gnu_cxx::_S_single>(PoolAllocator<Node<T>>(), std::move(value));
}
#else
template <class T>
using NodePtr = std::shared_ptr<Node<T>>;
template <class T>
using WeakNodePtr = std::weak_ptr<Node<T>>;
template <class T>
NodePtr<T> make_node(Tensor<T>&& value) {
  return std::allocate_shared<Node<T>>(PoolAllocator<Node<T>>(), std::move(value));
}
#endif

}  // namespace tg

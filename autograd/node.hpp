// A value in a graph (Node) and its shared ownership (NodePtr): the value,
// its gradient and the three verbs every backward writes it through. Users
// hold nodes through Var (tape.hpp); backwards reach them through the
// handles of an op scope (op.hpp).
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

// What a backward writes into for by-hand loops and BLAS (Node::grad_sink):
// the gradient buffer, shaped like the value, and beta, 0 when nothing is
// there yet (write, or C = AB + 0 C) and 1 when it is to be added to.
template <class T>
struct GradSink {
  Tensor<T>& buffer;
  T beta;
  // For loops that add into part of the buffer: zero-filled first when
  // nothing was there.
  T* zeroed() const {
    if (beta == T(0)) buffer.fill(T(0));
    return buffer.data();
  }
};

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
  Tape<T>* tape = nullptr;
  std::uint64_t generation = 0;  // 0 for leaves; else the tape generation of the op
  bool is_leaf() const { return generation == 0; }

  // Memory, not meaning: an op's result whose value no backward reads is
  // released with its last Var (autograd/op.hpp says what an op saves).
  bool saved = true;           // some backward reads `value`
  bool value_released = false;
  int handles = 0;             // Vars holding this node; closures are not counted

  // Speed, not meaning: each field below saves work on a hot path and can
  // only be unused, never wrong.
  // - Rows [0, unwritten_rows) of `grad` (first axis) hold nothing yet and
  //   read as zero: the steps of a sequence write their own rows of a
  //   (T*B, 4H) gradient, which is never zero-filled as a whole
  //   (accumulate_rows).
  std::size_t unwritten_rows = 0;
  // - The rows index_select wrote into, for leaves an index_select's
  //   backward reached (embedding tables): data-parallel training sends only
  //   those, and the next zeroing zeroes only those. Null for every other
  //   node; every other way of contributing marks it dense.
  std::unique_ptr<GradRows> grad_rows;
  // - A 2-D leaf's value transposed, made at most once per backward sweep
  //   for the products that read it so (dA = dY B^T as a plain product:
  //   ~20% faster at the recurrent shapes, where one weight serves every step).
  std::unique_ptr<Tensor<T>> value_t;
  std::uint64_t value_t_sweep = 0;
  const T* transposed_value();

  // The gradient verbs: every backward writes through these three. The first
  // contribution is written, later ones added, so every backward can simply
  // contribute and a value used twice receives the sum of its uses.
  //
  // accumulate(g): g an xtensor expression or a Tensor. A first contribution
  // is copied in (an rvalue Tensor is taken over, no copy); a g of a
  // broadcast shape is summed down to this node's shape.
  template <class E>
  void accumulate(const E& g) {
    if (!same_extents(g.shape())) return sum_to_and_add(Tensor<T>(g));
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
  // The common case, a Tensor of this node's shape, on raw loops (zip.hpp).
  void accumulate(const Tensor<T>& g) {
    if (!shapes_equal(g, value)) return sum_to_and_add(g);
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
  // A contribution nobody reads again (a spent gradient, a temporary):
  // taken over without a copy when it is the first one.
  void accumulate(Tensor<T>&& g) {
    if (!shapes_equal(g, value)) return sum_to_and_add(g);
    fill_unwritten();
    if (has_grad) return accumulate(static_cast<const Tensor<T>&>(g));
    note_dense();
    grad = std::move(g);
    has_grad = true;
  }
  // grad_sink(): the buffer and beta, for BLAS (C = alpha AB + beta C) and
  // loops by hand: beta 0 means write (nothing there yet), 1 means add.
  // Call it before reading grad.data(): it may allocate.
  GradSink<T> grad_sink();
  // accumulate_rows: the rows forms.
  // - (offset, d, n): d is added at elements [offset, offset + n), whole
  //   rows of the first axis (a step of a sequence). Backward meets the
  //   steps last first, so each writes rows below the ones written before;
  //   only gaps are ever zero-filled.
  // - (ids, count, d, skip): row i of d (rows of this node's row size) is
  //   added into row ids[i], skipping ids equal to `skip` (index_select into
  //   a table; a repeated id receives the sum). Into a leaf the rows are
  //   noted (grad_rows), and the next step zeroes only them.
  void accumulate_rows(std::size_t offset, const T* d, std::size_t n);
  void accumulate_rows(const std::int64_t* ids, std::size_t count, const T* d, std::int64_t skip);

  // For the tape and Var, not for backwards: ------------------------------
  void note_dense() {
    if (grad_rows) grad_rows->dense = true;
  }
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
    if (saved || is_leaf() || value_released) return;
    typename Tensor<T>::storage_type().swap(value.storage());
    value_released = true;
  }

 private:
  template <class S>
  bool same_extents(const S& s) const {
    const auto& t = value.shape();
    if (s.size() != t.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (std::size_t(s[i]) != t[i]) return false;
    return true;
  }
  void sum_to_and_add(const Tensor<T>& g);
  Tensor<T>& zeroed_grad();
  GradRows& zeroed_grad_rows();
  bool first_rows_write(std::size_t r0, std::size_t r1);
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

#include <tapegrad/autograd/diagnostics/stale.hpp>

namespace tg {

template <class T>
void StaleWatch<T>::on_op(const char* op, std::initializer_list<const Var<T>*> inputs) {
  if (!found_.empty()) return;
  std::size_t k = 0;
  for (const Var<T>* v : inputs) {
    const Node<T>& n = *v->node();
    if (n.requires_grad && tape_.cleared_since(n)) {
      found_ = "input " + std::to_string(k) + " (shape " + shape_str(n.value.shape()) + ") of op '" + op +
               "' was computed before the tape was cleared";
      return;
    }
    ++k;
  }
}

template class StaleWatch<float>;
template class StaleWatch<double>;

}  // namespace tg

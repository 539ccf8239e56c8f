#include <tapegrad/autograd/diagnostics/anomaly.hpp>

#include <cmath>
#include <string>

namespace tg {
namespace {

// The index and value of the first NaN/Inf element from `from` on, or false.
template <class T>
bool first_non_finite(const Tensor<T>& t, std::size_t* at, T* value, std::size_t from = 0) {
  const T* p = t.data();
  for (std::size_t i = from; i < t.size(); ++i)
    if (!std::isfinite(p[i])) {
      *at = i;
      *value = p[i];
      return true;
    }
  return false;
}

template <class T>
std::string shapes_of(const std::vector<const Node<T>*>& inputs) {
  std::string s;
  for (const Node<T>* n : inputs) s += (s.empty() ? "" : ", ") + shape_str(n->value.shape());
  return s;
}

}  // namespace

template <class T>
void AnomalyDetector<T>::on_op(const char* op, std::initializer_list<const Var<T>*> inputs) {
  op_.name = op;
  op_.inputs.clear();
  for (const Var<T>* v : inputs) op_.inputs.push_back(v->node().get());
}

template <class T>
void AnomalyDetector<T>::on_result(const Node<T>& n) {
  std::size_t at;
  T v;
  if (!first_non_finite(n.value, &at, &v)) return;
  // The op's record, if it makes one, comes next on the tape.
  throw Error("anomaly: op '" + std::string(op_.name) + "' (tape record " + std::to_string(tape_.size()) +
              ", inputs " + shapes_of(op_.inputs) + ") produced " + std::to_string(v) + " at element " +
              std::to_string(at) + " of its result " + shape_str(n.value.shape()));
}

template <class T>
void AnomalyDetector<T>::on_record(std::size_t record) {
  records_.resize(record, {"(recorded before detection was on)", {}});
  records_.push_back(op_);
}

template <class T>
const char* AnomalyDetector<T>::op_of(std::size_t record) const {
  return record < records_.size() ? records_[record].name : nullptr;
}

template <class T>
void AnomalyDetector<T>::after_backward(std::size_t record) {
  if (record >= records_.size()) return;  // recorded before detection was on
  const Op& r = records_[record];
  for (std::size_t k = 0; k < r.inputs.size(); ++k) {
    const Node<T>* n = r.inputs[k];
    std::size_t at;
    T v;
    // Unwritten rows (Node::accumulate_rows) hold no value yet.
    const std::size_t from = n->unwritten_rows ? n->unwritten_rows * (n->grad.size() / n->value.shape()[0]) : 0;
    if (n->has_grad && first_non_finite(n->grad, &at, &v, from))
      throw Error("anomaly: the backward of op '" + std::string(r.name) + "' (tape record " +
                  std::to_string(record) + ", inputs " + shapes_of(r.inputs) + ") gave input " +
                  std::to_string(k) + " a gradient of " + std::to_string(v) + " at element " +
                  std::to_string(at));
  }
}

template class AnomalyDetector<float>;
template class AnomalyDetector<double>;

}  // namespace tg

#include <tapegrad/autograd/diagnostics/op_timer.hpp>

#include <tapegrad/autograd/node.hpp>

namespace tg {

template <class T>
void OpTimer<T>::on_op(const char* op, std::initializer_list<const Var<T>*>) {
  op_ = op;
  results_ = 0;
  start_ = Clock::now();
}

template <class T>
void OpTimer<T>::on_result(const Node<T>& n) {
  const auto now = Clock::now();
  profiler::detail::add_forward(op_, now - start_, n.value.size() * sizeof(T), results_++ == 0);
  start_ = now;
}

template <class T>
void OpTimer<T>::on_record(std::size_t record) {
  records_.resize(record, nullptr);
  records_.push_back(op_);
}

template <class T>
const char* OpTimer<T>::op_of(std::size_t record) const {
  return record < records_.size() ? records_[record] : nullptr;
}

template <class T>
void OpTimer<T>::before_backward(std::size_t) {
  start_ = Clock::now();
}

template <class T>
void OpTimer<T>::after_backward(std::size_t record) {
  const char* op = op_of(record);
  profiler::detail::add_backward(op ? op : "(unknown)", Clock::now() - start_);
}

template class OpTimer<float>;
template class OpTimer<double>;

}  // namespace tg

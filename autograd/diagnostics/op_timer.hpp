// The profiler's eyes on one tape (autograd/profiler.hpp): while the
// profiler is on, every tape holds one. Forward time runs from the op's
// start to its result (an op with two results counts one call; each result
// adds the time since the previous mark); backward time is the record's run.
#pragma once

#include <vector>

#include <tapegrad/autograd/observer.hpp>
#include <tapegrad/autograd/profiler.hpp>

namespace tg {

template <class T>
class OpTimer final : public TapeObserver<T> {
 public:
  void on_op(const char* op, std::initializer_list<const Var<T>*> inputs) override;
  void on_result(const Node<T>& result) override;
  void on_record(std::size_t record) override;
  void before_backward(std::size_t record) override;
  void after_backward(std::size_t record) override;
  void on_clear() override { records_.clear(); }
  const char* op_of(std::size_t record) const override;

 private:
  using Clock = profiler::detail::Clock;
  const char* op_ = "";
  Clock::time_point start_;
  int results_ = 0;  // of the op being computed
  std::vector<const char*> records_;  // the op of each record
};

extern template class OpTimer<float>;
extern template class OpTimer<double>;

}  // namespace tg

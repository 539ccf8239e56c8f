// Anomaly detection (Tape::set_detect_anomaly): a NaN/Inf made by an op's
// forward or written by its backward stops the run at once, with an error
// naming the op, its tape record and its input shapes, e.g.
//   anomaly: the backward of op 'sqrt' (tape record 0, inputs (2,)) gave
//   input 0 a gradient of inf at element 1
#pragma once

#include <vector>

#include <tapegrad/autograd/observer.hpp>
#include <tapegrad/autograd/tape.hpp>

namespace tg {

template <class T>
class AnomalyDetector final : public TapeObserver<T> {
 public:
  explicit AnomalyDetector(const Tape<T>& tape) : tape_(tape) {}
  void on_op(const char* op, std::initializer_list<const Var<T>*> inputs) override;
  void on_result(const Node<T>& result) override;   // throws on NaN/Inf
  void on_record(std::size_t record) override;
  void after_backward(std::size_t record) override;  // throws on NaN/Inf
  void on_clear() override { records_.clear(); }
  const char* op_of(std::size_t record) const override;

 private:
  // An op and its inputs: the one being computed, and one per record (the
  // records made before detection was on hold a placeholder).
  struct Op {
    const char* name;
    std::vector<const Node<T>*> inputs;
  };
  const Tape<T>& tape_;
  Op op_{"", {}};
  std::vector<Op> records_;
};

extern template class AnomalyDetector<float>;
extern template class AnomalyDetector<double>;

}  // namespace tg

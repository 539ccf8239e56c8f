// What a diagnostic sees of a tape: the hooks of TapeObserver. Anomaly
// detection, the profiler and gradcheck's stale-input watch are observers
// (autograd/diagnostics/); the tape itself only appends and sweeps.
//
//   struct CountOps : TapeObserver<float> {
//     int n = 0;
//     void on_op(const char*, std::initializer_list<const Var<float>*>) override { ++n; }
//   } count;
//   tape.attach(count);  ... forward ...  tape.detach(count);
//
// With no observer attached an op, a result, a record and a backward step
// each pay one test of an empty list: no virtual call, nothing kept.
#pragma once

#include <cstddef>
#include <initializer_list>

namespace tg {

template <class T>
class Var;
template <class T>
struct Node;

template <class T>
class TapeObserver {
 public:
  virtual ~TapeObserver() = default;
  // An op begins (tape_of): its name and its inputs.
  virtual void on_op(const char* /*op*/, std::initializer_list<const Var<T>*> /*inputs*/) {}
  // The op made a result (an op with two results, an LSTM cell, makes two).
  virtual void on_result(const Node<T>& /*result*/) {}
  // The op's backward was appended as tape record `record`.
  virtual void on_record(std::size_t /*record*/) {}
  // Backward runs record `record` between these two.
  virtual void before_backward(std::size_t /*record*/) {}
  virtual void after_backward(std::size_t /*record*/) {}
  // The records were dropped (Tape::clear); indices start at 0 again.
  virtual void on_clear() {}
  // The name of the op that appended `record`, for error messages; null
  // when this observer did not see it.
  virtual const char* op_of(std::size_t /*record*/) const { return nullptr; }
};

}  // namespace tg

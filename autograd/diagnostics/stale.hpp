// Gradcheck's watch for graph built outside the function it checks
// (Tape::set_watch_stale): notes the first op input that requires grad and
// was computed before the last clear(). Every gradient stops there, and the
// numeric one too, as its value never changes: a wrong backward behind it
// would pass the check.
#pragma once

#include <string>

#include <tapegrad/autograd/observer.hpp>
#include <tapegrad/autograd/tape.hpp>

namespace tg {

template <class T>
class StaleWatch final : public TapeObserver<T> {
 public:
  explicit StaleWatch(const Tape<T>& tape) : tape_(tape) {}
  void on_op(const char* op, std::initializer_list<const Var<T>*> inputs) override;
  // "" when none was seen; else the op, the input and its shape.
  const std::string& found() const { return found_; }

 private:
  const Tape<T>& tape_;
  std::string found_;
};

extern template class StaleWatch<float>;
extern template class StaleWatch<double>;

}  // namespace tg

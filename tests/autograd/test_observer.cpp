// The tape's observer hooks (autograd/observer.hpp): what an observer sees,
// in which order, and that a detached one sees nothing.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/autograd/profiler.hpp>

using namespace tg;

namespace {
// Writes each event as a word: "op:tanh/1", "result", "record:0", "before:0"...
struct Log : TapeObserver<double> {
  std::vector<std::string> events;
  void on_op(const char* op, std::initializer_list<const Var<double>*> inputs) override {
    events.push_back("op:" + std::string(op) + "/" + std::to_string(inputs.size()));
  }
  void on_result(const Node<double>&) override { events.push_back("result"); }
  void on_record(std::size_t r) override { events.push_back("record:" + std::to_string(r)); }
  void before_backward(std::size_t r) override { events.push_back("before:" + std::to_string(r)); }
  void after_backward(std::size_t r) override { events.push_back("after:" + std::to_string(r)); }
  void on_clear() override { events.push_back("clear"); }
};
}  // namespace

TEST_CASE("observer: sees ops, results, records and the backward of each record in order", "[autograd][observer]") {
  Tape<double> tape;
  Log log;
  Var<double> x = tape.parameter(Tensor<double>{0.5, 1.5});
  tape.attach(log);
  Var<double> loss = sum(tanh(x));
  tape.backward(loss);
  tape.clear();
  CHECK(log.events == std::vector<std::string>{"op:tanh/1", "result", "record:0", "op:sum/1", "result", "record:1",
                                               "before:1", "after:1", "before:0", "after:0", "clear"});
  CHECK(x.grad()(1) == Approx(1 - std::tanh(1.5) * std::tanh(1.5)));

  // Detached, it sees nothing; the results are the same.
  tape.detach(log);
  log.events.clear();
  x.zero_grad();
  tape.backward(sum(tanh(x)));
  CHECK(log.events.empty());
  CHECK(x.grad()(1) == Approx(1 - std::tanh(1.5) * std::tanh(1.5)));
}

TEST_CASE("observer: a record whose output got no gradient is not run, and not reported", "[autograd][observer]") {
  Tape<double> tape;
  Log log;
  tape.attach(log);
  Var<double> x = tape.parameter(Tensor<double>{1.0, 2.0});
  Var<double> unused = exp(x);  // record 0: nothing reaches it
  tape.backward(sum(x * 2.0));  // records 1, 2
  const std::vector<std::string> tail(log.events.end() - 4, log.events.end());
  CHECK(tail == std::vector<std::string>{"before:2", "after:2", "before:1", "after:1"});
  (void)unused;
}

TEST_CASE("observer: the profiler's switch reaches every live tape, and switching off detaches", "[autograd][observer][profiler]") {
  Tape<double> before;  // made while the profiler is off
  Var<double> x = before.parameter(Tensor<double>{0.5});
  profiler::reset();
  profiler::enable(true);
  Tape<double> during;  // made while it is on
  Var<double> y = during.parameter(Tensor<double>{0.5});
  before.backward(sum(exp(x)));
  during.backward(sum(exp(y)));
  profiler::enable(false);
  CHECK(profiler::stats("exp").calls == 2);
  CHECK(profiler::stats("exp").backward_calls == 2);
  before.clear();
  (void)exp(x);
  CHECK(profiler::stats("exp").calls == 2);
  profiler::reset();
}

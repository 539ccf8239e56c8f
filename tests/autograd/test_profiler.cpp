// The op profiler: counts, bytes and times per op name; nothing when off.
#include <catch2/catch.hpp>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/autograd/profiler.hpp>

using namespace tg;

namespace {
// Three steps of h = tanh(h W): 3 matmuls, 3 tanhs, a sum.
void run(Tape<float>& tape, Var<float>& w) {
  Var<float> h = tape.constant(Tensor<float>::from_shape({4, 8}));
  h.value().fill(0.5f);
  for (int t = 0; t < 3; ++t) h = tanh(matmul(h, w));
  tape.backward(sum(h));
  tape.clear();
}
}  // namespace

TEST_CASE("profiler: calls, backward calls and bytes per op, off records nothing", "[autograd][profiler]") {
  Tape<float> tape;
  Var<float> w = tape.parameter(Tensor<float>::from_shape({8, 8}));
  w.value().fill(0.1f);
  profiler::reset();
  profiler::enable(false);
  run(tape, w);
  CHECK(profiler::stats("tanh").calls == 0);

  profiler::enable(true);
  run(tape, w);
  run(tape, w);
  profiler::enable(false);
  const profiler::OpStats tanh_stats = profiler::stats("tanh"), mm = profiler::stats("matmul");
  CHECK(tanh_stats.calls == 6);
  CHECK(tanh_stats.backward_calls == 6);
  CHECK(tanh_stats.bytes == 6 * 4 * 8 * sizeof(float));
  CHECK(mm.calls == 6);
  CHECK(mm.backward_calls == 6);
  CHECK(mm.forward_seconds > 0);
  CHECK(mm.backward_seconds > 0);
  CHECK(profiler::stats("sum").calls == 2);
  const std::string table = profiler::table();
  CHECK(table.find("matmul") != std::string::npos);
  CHECK(table.find("total") != std::string::npos);
  CHECK(profiler::csv().rfind("op,calls,forward_ms,backward_ms,total_ms,mbytes\n", 0) == 0);
  profiler::reset();
  CHECK(profiler::stats("tanh").calls == 0);
}

TEST_CASE("profiler: a retained graph's second backward counts again", "[autograd][profiler]") {
  Tape<float> tape;
  Var<float> w = tape.parameter(Tensor<float>{0.5f, 1.5f});
  profiler::reset();
  profiler::enable(true);
  Var<float> loss = sum(tanh(w));
  tape.backward(loss, retain_graph);
  tape.backward(loss);
  CHECK_THROWS(tape.backward(loss));
  profiler::enable(false);
  CHECK(profiler::stats("tanh").calls == 1);
  CHECK(profiler::stats("tanh").backward_calls == 2);
  profiler::reset();
}

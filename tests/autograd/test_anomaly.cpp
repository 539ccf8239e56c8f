// Anomaly detection: a NaN/Inf made by an op's forward or written by its
// backward is reported at once, naming the op and its place on the tape.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <tapegrad/autograd/autograd.hpp>

using namespace tg;
using Catch::Contains;

TEST_CASE("anomaly: a forward NaN names the op and its record", "[autograd][anomaly]") {
  Tape<double> tape;
  tape.set_detect_anomaly(true);
  Var<double> x = tape.parameter(Tensor<double>{1.0, -2.0, 3.0});
  Var<double> y = exp(x);  // record 0
  REQUIRE_THROWS_WITH(log(x), Contains("op 'log'") && Contains("tape record 1") &&
                                  Contains("(3,)") && Contains("element 1"));
  (void)y;
}

TEST_CASE("anomaly: a backward Inf names the op whose backward wrote it", "[autograd][anomaly]") {
  Tape<double> tape;
  tape.set_detect_anomaly(true);
  Var<double> x = tape.parameter(Tensor<double>{4.0, 0.0});
  Var<double> loss = sum(sqrt(x) * 3.0);  // sqrt is finite at 0; its derivative is not
  REQUIRE_THROWS_WITH(tape.backward(loss), Contains("backward of op 'sqrt'") && Contains("tape record 0") &&
                                               Contains("element 1"));
}

TEST_CASE("anomaly: off by default, and on it changes no result", "[autograd][anomaly]") {
  for (bool on : {false, true}) {
    Tape<double> tape;
    tape.set_detect_anomaly(on);
    Var<double> x = tape.parameter(Tensor<double>{0.5, 1.5, 2.5});
    tape.backward(sum(tanh(x) * x));
    CHECK(x.grad()(1) == Approx(std::tanh(1.5) + 1.5 * (1 - std::tanh(1.5) * std::tanh(1.5))));
  }
  Tape<double> quiet;
  Var<double> x = quiet.parameter(Tensor<double>{-1.0});
  CHECK(std::isnan(log(x).value()(0)));  // no detection: NaN flows on
}

TEST_CASE("anomaly: turned on after some records, indices still name the right op",
          "[autograd][anomaly]") {
  Tape<double> tape;
  Var<double> x = tape.parameter(Tensor<double>{0.0, 1.0});
  Var<double> a = x * 2.0;  // record 0, before detection
  tape.set_detect_anomaly(true);
  Var<double> b = sqrt(a);  // record 1
  REQUIRE_THROWS_WITH(tape.backward(sum(b)), Contains("op 'sqrt'") && Contains("tape record 1"));
}

TEST_CASE("anomaly: works over a retained graph and names the op of a spent one", "[autograd][anomaly]") {
  Tape<double> tape;
  tape.set_detect_anomaly(true);
  Var<double> x = tape.parameter(Tensor<double>{4.0, 1.0});
  Var<double> loss = sum(sqrt(x));
  tape.backward(loss, retain_graph);
  tape.backward(loss);
  CHECK(x.grad()(0) == Approx(2 * 0.25));
  REQUIRE_THROWS_WITH(tape.backward(loss), Contains("already differentiated") && Contains("op 'sum'") &&
                                               Contains("tape record 1"));
  tape.clear();
  x.value()(1) = 0.0;  // sqrt's derivative is infinite at 0, found by a retained backward too
  Var<double> again = sum(sqrt(x));
  REQUIRE_THROWS_WITH(tape.backward(again, retain_graph), Contains("backward of op 'sqrt'"));
}

TEST_CASE("anomaly: rows of a gradient not written yet are not read as NaN", "[autograd][anomaly]") {
  // The steps of a sequence write their rows of its gradient last step
  // first (Node::accumulate_rows); the rows still unwritten hold whatever
  // the reused buffer held. Fill the buffer cache with NaN first.
  memory::release_cached();
  {
    std::vector<Tensor<float>> poison(64, Tensor<float>::from_shape(Shape{4, 2, 3}));
    for (auto& p : poison) p.fill(std::nanf(""));
  }
  Tape<float> tape;
  tape.set_detect_anomaly(true);
  Var<float> x = tape.parameter(Tensor<float>(xt::ones<float>({4, 2, 3})));
  Var<float> w = tape.parameter(Tensor<float>(xt::ones<float>({3, 3}) * 0.1f));
  Var<float> seq = x * 2.0f;  // an op's result: its gradient goes row block by row block
  Var<float> h = tape.constant(tg::zeros<float>(Shape{2, 3}));
  for (std::size_t t = 0; t < 4; ++t) h = tanh(matmul_add(seq, t, h, w));
  REQUIRE_NOTHROW(tape.backward(sum(h)));
  REQUIRE(xt::all(xt::isfinite(x.grad())));
}

// The tape's contract: records in order, accumulation, clearing, no-grad,
// errors that say what to do, and memory that does not grow.
#include <fstream>
#include <unistd.h>

#include "check.hpp"

using namespace tg;

TEST_CASE("backward seeds 1 and walks the tape in reverse", "[tape]") {
  Tape<double> tape;
  Var<double> x = tape.parameter(Tensor<double>{3.0});
  Var<double> y = x * x * x;  // 2 records
  REQUIRE(tape.size() == 2);
  tape.backward(sum(y));
  REQUIRE(x.grad()(0) == Approx(27.0));  // 3 x^2
}

TEST_CASE("a value used many times receives the sum of its uses", "[tape]") {
  Tape<double> tape;
  Var<double> w = tape.parameter(Tensor<double>{2.0});
  Var<double> acc = tape.constant(Tensor<double>{1.0});
  for (int t = 0; t < 5; ++t) acc = acc * w;  // w^5
  tape.backward(sum(acc));
  REQUIRE(w.grad()(0) == Approx(5 * 16.0));
}

TEST_CASE("gradients accumulate across backward calls until zeroed", "[tape]") {
  Tape<double> tape;
  Var<double> w = tape.parameter(Tensor<double>{1.0, 2.0});
  tape.backward(sum(w * 3.0));
  tape.clear();
  tape.backward(sum(w * 3.0));
  REQUIRE(w.grad()(1) == Approx(6.0));
  w.zero_grad();
  REQUIRE_FALSE(w.has_grad());
  tape.clear();
  tape.backward(sum(w * 3.0));
  REQUIRE(w.grad()(1) == Approx(3.0));
}

TEST_CASE("constants get no gradient and record nothing alone", "[tape]") {
  Tape<double> tape;
  Var<double> c = tape.constant(Tensor<double>{1.0, 2.0});
  Var<double> y = exp(c);
  REQUIRE_FALSE(y.requires_grad());
  REQUIRE(tape.size() == 0);
  REQUIRE_THROWS_WITH(tape.backward(sum(y)), Catch::Contains("does not depend on any parameter"));
  REQUIRE_THROWS_WITH(c.grad(), Catch::Contains("no gradient"));
}

TEST_CASE("no_grad records nothing", "[tape]") {
  Tape<double> tape;
  Var<double> w = tape.parameter(Tensor<double>{1.0, 2.0});
  {
    auto guard = tape.no_grad();
    Var<double> y = tanh(w * w);
    REQUIRE_FALSE(y.requires_grad());
    REQUIRE(tape.size() == 0);
  }
  Var<double> z = tanh(w);
  REQUIRE(z.requires_grad());
  REQUIRE(tape.size() == 1);
}

TEST_CASE("backward errors say what to do", "[tape]") {
  Tape<double> tape;
  Var<double> w = tape.parameter(Tensor<double>{1.0, 2.0});
  Var<double> y = w * 2.0;
  REQUIRE_THROWS_WITH(tape.backward(y), Catch::Contains("(2,)") && Catch::Contains("sum() or mean()"));
  Var<double> loss = sum(y);
  tape.clear();
  REQUIRE_THROWS_WITH(tape.backward(loss), Catch::Contains("cleared") && Catch::Contains("forward pass again"));
  Var<double> y2 = w * 2.0;
  REQUIRE_THROWS_WITH(tape.backward(y2, Tensor<double>{1.0, 1.0, 1.0}), Catch::Contains("seed shape"));
  Tape<double> other;
  Var<double> v = other.parameter(Tensor<double>{1.0, 2.0});
  REQUIRE_THROWS_WITH(w + v, Catch::Contains("different tapes"));
}

TEST_CASE("a second backward over a spent graph is an error that says what to do", "[tape][retain]") {
  Tape<double> tape;
  Var<double> w = tape.parameter(Tensor<double>{1.0, -2.0});
  Var<double> loss = sum(tanh(w) * w * 3.0);
  tape.backward(loss);
  const Tensor<double> once = w.grad();
  REQUIRE_THROWS_WITH(tape.backward(loss),
                      Catch::Contains("already differentiated") && Catch::Contains("clear()") &&
                          Catch::Contains("forward pass again") && Catch::Contains("retain_graph") &&
                          !Catch::Contains("part of it"));
  REQUIRE((w.grad() == once));  // not doubled
  // The way out the message names: clear, forward again, backward.
  tape.clear();
  w.zero_grad();
  tape.backward(sum(tanh(w) * w * 3.0));
  REQUIRE((w.grad() == once));
  // With a seed too.
  tape.clear();
  Var<double> y = tanh(w) * w;
  tape.backward(y, Tensor<double>{1.0, 1.0});
  REQUIRE_THROWS_WITH(tape.backward(y, Tensor<double>{1.0, 1.0}), Catch::Contains("already differentiated"));
}

TEST_CASE("retain_graph keeps the graph: each backward adds into the leaves again", "[tape][retain]") {
  Tape<double> tape;
  Var<double> w = tape.parameter(Tensor<double>{0.5, 2.0});
  Var<double> loss = sum(square(w) * 3.0);  // d/dw = 6w
  tape.backward(loss, retain_graph);
  REQUIRE(w.grad()(1) == Approx(12.0));
  tape.backward(loss, retain_graph);
  REQUIRE(w.grad()(1) == Approx(24.0));
  tape.backward(loss);  // the last one spends the graph
  REQUIRE(w.grad()(1) == Approx(36.0));
  REQUIRE_THROWS_WITH(tape.backward(loss), Catch::Contains("already differentiated"));
  REQUIRE(w.grad()(1) == Approx(36.0));
  // A seeded backward may retain too: here d(y)/dw with seed (1, 0) twice.
  tape.clear();
  w.zero_grad();
  Var<double> y = square(w) * 3.0;
  tape.backward(y, Tensor<double>{1.0, 0.0}, retain_graph);
  tape.backward(y, Tensor<double>{0.0, 1.0});
  REQUIRE((w.grad() == Tensor<double>{3.0, 12.0}));
}

TEST_CASE("graphs on one tape: one backward each, reusing a spent piece is an error", "[tape][retain]") {
  Tape<double> tape;
  Var<double> w = tape.parameter(Tensor<double>{0.5, 2.0});
  Var<double> h = tanh(w);
  tape.backward(sum(h * 2.0));
  const Tensor<double> first = w.grad();
  // A second graph that shares only the leaf: fine, and it adds.
  tape.backward(sum(w * 5.0));
  REQUIRE((w.grad() == first + 5.0));
  // A third that reaches the spent tanh: the error says the gradients may be partial.
  REQUIRE_THROWS_WITH(tape.backward(sum(h * h)),
                      Catch::Contains("already differentiated") && Catch::Contains("part of it"));
  // The tape is usable after the error.
  tape.clear();
  w.zero_grad();
  tape.backward(sum(tanh(w) * 2.0));
  REQUIRE((w.grad() == first));
}

TEST_CASE("shape mismatches name the op and both shapes", "[tape]") {
  Tape<float> tape;
  Var<float> a = tape.parameter(tg::zeros<float>(Shape{2, 3}));
  Var<float> b = tape.parameter(tg::zeros<float>(Shape{4}));
  REQUIRE_THROWS_WITH(a + b, Catch::Contains("add") && Catch::Contains("(2, 3)") && Catch::Contains("(4,)"));
  REQUIRE_THROWS_WITH(a * b, Catch::Contains("mul"));
  REQUIRE_THROWS_WITH(matmul(a, a), Catch::Contains("matmul") && Catch::Contains("(2, 3)"));
  REQUIRE_THROWS_WITH(reshape(a, Shape{5}), Catch::Contains("reshape"));
  REQUIRE_THROWS_WITH(slice(a, 1, 2, 4), Catch::Contains("slice") && Catch::Contains("out of bounds"));
  REQUIRE_THROWS_WITH(sum(a, 2), Catch::Contains("axis 2"));
  REQUIRE_THROWS_WITH(cross_entropy(a, {0, 3}), Catch::Contains("target 3 at row 1"));
  REQUIRE_THROWS_WITH(index_select(a, xt::xarray<std::int64_t>{0, 2}), Catch::Contains("index 2 at position 1"));
}

static long resident_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

TEST_CASE("memory does not grow over 10,000 steps of a small RNN", "[tape][memory]") {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine: resident size grows by design.
  WARN("built with AddressSanitizer: the resident-memory bound is not checked");
  return;
#endif
  Tape<float> tape;
  Rng rng(1);
  Var<float> W = tape.parameter(uniform<float>(Shape{16, 16}, -0.3f, 0.3f, rng));
  Var<float> U = tape.parameter(uniform<float>(Shape{8, 16}, -0.3f, 0.3f, rng));
  Var<float> b = tape.parameter(tg::zeros<float>(Shape{16}));
  Var<float> x = tape.constant(uniform<float>(Shape{4, 8}, -1, 1, rng));
  long after_warmup = 0;
  std::size_t records = 0;
  for (int step = 0; step < 10000; ++step) {
    Var<float> h = tape.constant(tg::zeros<float>(Shape{4, 16}));
    for (int t = 0; t < 5; ++t) h = tanh(matmul(h, W) + matmul(x, U) + b);
    tape.backward(mean(square(h)));
    for (Var<float>* p : {&W, &U, &b}) {
      xt::noalias(p->value()) -= 1e-3f * p->grad();
      p->zero_grad();
    }
    records = std::max(records, tape.size());
    tape.clear();
    if (step == 999) after_warmup = resident_kib();
  }
  REQUIRE(tape.size() == 0);
  REQUIRE(records == 5 * 5 + 2);
  REQUIRE(W.node().use_count() == 1);  // no record holds the weight any more
  // Allow 1 MiB of allocator noise; a leaked graph would be ~50 KiB per step.
  REQUIRE(resident_kib() - after_warmup < 1024);
}

TEST_CASE("a value no Var holds and no backward reads is released at once", "[tape][memory]") {
  Tape<float> tape;
  Rng rng(1);
  const Shape shape{64, 128};
  const std::size_t bytes = 64 * 128 * sizeof(float);
  Var<float> x = tape.parameter(uniform<float>(shape, 0, 1, rng));
  Var<float> cm = tape.constant(uniform<float>(shape, 0.99f, 1.01f, rng));
  Var<float> ca = tape.constant(uniform<float>(shape, -0.01f, 0.01f, rng));
  const std::size_t before = memory::stats().live_bytes;
  Var<float> y = x;
  Var<float> held;
  Tensor<float> expected = x.value();
  for (int i = 0; i < 1000; ++i) {
    y = i % 2 == 0 ? y * cm : y + ca;
    expected = i % 2 == 0 ? Tensor<float>(expected * cm.value()) : Tensor<float>(expected + ca.value());
    if (i == 500) held = y;
  }
  // mul reads only the constant factor and add nothing: of 1,000 results,
  // the last and the one still held keep their buffers (the records' own
  // memory is counted too, but it is far below one buffer per op).
  const std::size_t live = memory::stats().live_bytes - before;
  INFO("live bytes " << live << ", one value " << bytes);
  REQUIRE(live < 40 * bytes);
  REQUIRE(xt::allclose(y.value(), expected));
  tape.backward(sum(y));
  Tensor<float> product = xt::ones<float>(shape);
  for (int i = 0; i < 1000; i += 2) product *= cm.value();
  REQUIRE(xt::allclose(x.grad(), product, 1e-4, 1e-6));
  held = Var<float>();
  tape.clear();
}

TEST_CASE("a value a backward reads is kept, and a released one cannot be taken up again", "[tape][memory]") {
  Tape<double> tape;
  Rng rng(2);
  Var<double> a = tape.parameter(uniform<double>({3, 4}, -1, 1, rng));
  Var<double> b = tape.parameter(uniform<double>({3, 4}, -1, 1, rng));
  NodePtr<double> product, sum_node;
  Var<double> out;
  {
    Var<double> p = a * b;  // read by square's backward (it saves its input)
    Var<double> s = a + b;  // read by nobody
    product = p.node();
    sum_node = s.node();
    out = square(p) + s;
  }
  REQUIRE_FALSE(product->value_released);
  REQUIRE(product->value.size() == 12);
  REQUIRE(sum_node->value_released);
  REQUIRE_THROWS_WITH(Var<double>(sum_node), Catch::Contains("released"));
  REQUIRE_NOTHROW(Var<double>(product));
  tape.backward(sum(out));
  const Tensor<double> p = a.value() * b.value();
  REQUIRE(xt::allclose(a.grad(), 2.0 * p * b.value() + 1.0));
  REQUIRE(xt::allclose(b.grad(), 2.0 * p * a.value() + 1.0));
}

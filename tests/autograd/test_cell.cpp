// The fused recurrent-step ops: gradchecks, and agreement with the same
// computation composed from primitive ops.
#include <cstring>

#include "check.hpp"

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

TEST_CASE("matmul_add: y = c + a b, gradcheck", "[ops][cell]") {
  Tape<double> tape;
  Rng rng(1);
  Var<double> c = rand_param(tape, {3, 5}, rng);
  Var<double> a = rand_param(tape, {3, 4}, rng);
  Var<double> b = rand_param(tape, {4, 5}, rng);
  REQUIRE(xt::allclose(matmul_add(c, a, b).value(), (c + matmul(a, b)).value()));
  require_gradcheck(tape, {c, a, b}, [&] { return matmul_add(c, a, b); });
  REQUIRE_THROWS_WITH(matmul_add(a, a, b), Catch::Contains("matmul_add"));
}

TEST_CASE("matmul_add from a sequence step, and affine: gradcheck", "[ops][cell]") {
  Tape<double> tape;
  Rng rng(4);
  Var<double> seq = rand_param(tape, {4, 3, 5}, rng);
  Var<double> a = rand_param(tape, {3, 2}, rng);
  Var<double> w = rand_param(tape, {2, 5}, rng);
  for (std::size_t t : {0, 3}) {
    REQUIRE(xt::allclose(matmul_add(seq, t, a, w).value(), matmul_add(select(seq, t), a, w).value()));
    require_gradcheck(tape, {seq, a, w}, [&] { return matmul_add(seq, t, a, w) * matmul_add(seq, 1, a, w); });
  }
  REQUIRE_THROWS_WITH(matmul_add(seq, 4, a, w), Catch::Contains("t < T"));
  Var<double> x = rand_param(tape, {2, 3, 4}, rng);
  Var<double> W = rand_param(tape, {4, 5}, rng);
  Var<double> b = rand_param(tape, {5}, rng);
  REQUIRE(xt::allclose(affine(x, W, b).value(), (matmul(x, W) + b).value()));
  require_gradcheck(tape, {x, W, b}, [&] { return affine(x, W, b); });
  REQUIRE_THROWS_WITH(affine(x, W, W), Catch::Contains("affine"));
  // More rows than one block of the forward (192): every block gets its bias.
  Var<double> tall = rand_param(tape, {2, 150, 4}, rng);
  REQUIRE(xt::allclose(affine(tall, W, b).value(), (matmul(tall, W) + b).value()));
}

TEST_CASE("matmul_add_rows: a row range of a packed sequence, gradcheck", "[ops][cell]") {
  Tape<double> tape;
  Rng rng(6);
  Var<double> packed = rand_param(tape, {7, 5}, rng);
  Var<double> a3 = rand_param(tape, {3, 2}, rng);
  Var<double> a1 = rand_param(tape, {1, 2}, rng);
  Var<double> w = rand_param(tape, {2, 5}, rng);
  REQUIRE(xt::allclose(matmul_add_rows(packed, 2, a3, w).value(),
                       matmul_add(slice(packed, 0, 2, 5), a3, w).value()));
  // Two ranges that overlap in row 4: both gradients land there.
  require_gradcheck(tape, {packed, a3, a1, w}, [&] {
    return sum(matmul_add_rows(packed, 2, a3, w)) * sum(matmul_add_rows(packed, 4, a1, w));
  });
  require_gradcheck(tape, {packed, a1, w}, [&] { return matmul_add_rows(packed, 6, a1, w); });
  REQUIRE_THROWS_WITH(matmul_add_rows(packed, 5, a3, w), Catch::Contains("first + m <= N"));
  REQUIRE_THROWS_WITH(matmul_add_rows(packed, 0, a3, a3), Catch::Contains("matmul_add_rows"));
}

TEST_CASE("steps of an op's result: rows written in any order, repeated, skipped: gradcheck",
          "[ops][cell]") {
  // The steps' backwards write their rows of the result's gradient without
  // zero-filling it first (Node::accumulate_rows); every order of steps,
  // rows no step reads, and other uses of the same result must still sum.
  const std::vector<std::vector<std::size_t>> orders = {{4, 3, 2, 1, 0}, {0, 1, 2, 3, 4}, {3, 1}, {1, 3},
                                                        {2, 2, 0}, {4, 0, 4}};
  Tape<double> tape;
  Rng rng(9);
  Var<double> a = rand_param(tape, {2, 2}, rng);
  Var<double> w = rand_param(tape, {2, 3}, rng);
  Var<double> x = rand_param(tape, {5, 2, 3}, rng);  // 5 steps of 2 rows
  Var<double> p = rand_param(tape, {7, 3}, rng);     // 7 packed rows
  for (const auto& order : orders) {
    INFO("steps in forward order " << shape_str(order));
    require_gradcheck(tape, {x, a, w}, [&] {
      Var<double> seq = x * x;  // an op's result, as the projected input of a layer is
      Var<double> out = tape.constant(tg::zeros<double>(Shape{2, 3}));
      for (std::size_t t : order) out = out + tanh(matmul_add(seq, t, a, w));
      return out;
    });
    require_gradcheck(tape, {p, a, w}, [&] {
      Var<double> packed = p * p;
      Var<double> out = tape.constant(tg::zeros<double>(Shape{2, 3}));
      for (std::size_t t : order) out = out + tanh(matmul_add_rows(packed, t, a, w));
      return out;
    });
  }
  // The same result also used elementwise, before and after the steps.
  require_gradcheck(tape, {x, a, w}, [&] {
    Var<double> seq = x * x;
    Var<double> s = sum(seq * seq);
    Var<double> y = tanh(matmul_add(seq, 4, a, w)) * s + matmul_add(seq, 2, a, w);
    return y * sum(seq);
  });
}

TEST_CASE("a step from a constant state of zeros skips its product: same values, gradcheck",
          "[ops][cell]") {
  Tape<double> tape;
  Rng rng(10);
  Var<double> seq = rand_param(tape, {3, 2, 4}, rng);
  Var<double> w = rand_param(tape, {4, 4}, rng);
  Var<double> h0 = tape.constant(tg::zeros<double>(Shape{2, 4}));
  REQUIRE(xt::allclose(tanh_matmul_add(seq, 0, h0, w).value(), tanh(select(seq, 0)).value()));
  // One step alone: w still gets a gradient, of zeros, as from the product.
  tape.clear();
  w.zero_grad();
  tape.backward(sum(matmul_add(seq, 0, h0, w)));
  REQUIRE(w.has_grad());
  REQUIRE(xt::all(xt::equal(w.grad(), 0.0)));
  tape.clear();
  require_gradcheck(tape, {seq, w}, [&] {
    Var<double> h = h0;
    for (std::size_t t = 0; t < 3; ++t) h = tanh_matmul_add(seq, t, h, w);
    return h;
  });
  // A parameter of zeros is not a constant: its gradient is computed.
  Var<double> z = tape.parameter(tg::zeros<double>(Shape{2, 4}));
  require_gradcheck(tape, {seq, w, z}, [&] { return square(tanh_matmul_add(seq, 1, z, w)); });
}

TEST_CASE("matmul_add_gather: a step from table rows, as index_select then matmul_add, gradcheck",
          "[ops][cell]") {
  Tape<double> tape;
  Rng rng(11);
  Var<double> table = rand_param(tape, {5, 4}, rng);
  Var<double> h = rand_param(tape, {3, 2}, rng);
  Var<double> w = rand_param(tape, {2, 4}, rng);
  const std::vector<std::int64_t> ids = {3, 0, 3};  // a repeated row gets both gradients
  REQUIRE(xt::allclose(matmul_add_gather(table, ids.data(), h, w).value(),
                       matmul_add(index_select(table, ids.data(), Shape{3}), h, w).value()));
  require_gradcheck(tape, {table, h, w}, [&] { return square(matmul_add_gather(table, ids.data(), h, w)); });
  // The padding id passes no gradient, as with index_select.
  tape.clear();
  tape.backward(sum(matmul_add_gather(table, ids.data(), h, w, /*no_grad_index=*/3)));
  REQUIRE(table.grad_rows() != nullptr);  // a leaf table's rows are noted, as by index_select
  REQUIRE(table.grad_rows()->list == std::vector<std::size_t>{0});
  for (std::size_t j = 0; j < 4; ++j) {
    REQUIRE(table.grad()(3, j) == 0.0);
    REQUIRE(table.grad()(0, j) == 1.0);
  }
  const std::vector<std::int64_t> bad = {1, 5, 0};
  REQUIRE_THROWS_WITH(matmul_add_gather(table, bad.data(), h, w), Catch::Contains("id 5 at position 1"));
  REQUIRE_THROWS_WITH(matmul_add_gather(table, ids.data(), h, h), Catch::Contains("matmul_add_gather"));
}

TEST_CASE("tanh_matmul_add(_rows): tanh of the step, gradcheck", "[ops][cell]") {
  Tape<double> tape;
  Rng rng(8);
  Var<double> seq = rand_param(tape, {4, 3, 5}, rng);
  Var<double> packed = rand_param(tape, {7, 5}, rng);
  Var<double> a = rand_param(tape, {3, 2}, rng);
  Var<double> w = rand_param(tape, {2, 5}, rng);
  REQUIRE(xt::allclose(tanh_matmul_add(seq, 2, a, w).value(), tanh(matmul_add(seq, 2, a, w)).value()));
  REQUIRE(xt::allclose(tanh_matmul_add_rows(packed, 4, a, w).value(),
                       tanh(matmul_add_rows(packed, 4, a, w)).value()));
  // Two steps reading the sequence, one reading the other's output.
  require_gradcheck(tape, {seq, a, w}, [&] {
    Var<double> h = tanh_matmul_add(seq, 0, a, w);
    return tanh_matmul_add(seq, 3, slice(h, 1, 0, 2), w) + h;
  });
  require_gradcheck(tape, {packed, a, w}, [&] {
    return tanh_matmul_add_rows(packed, 1, a, w) * tanh_matmul_add_rows(packed, 2, a, w);
  });
  REQUIRE_THROWS_WITH(tanh_matmul_add(seq, 4, a, w), Catch::Contains("tanh_matmul_add: step 4"));
  REQUIRE_THROWS_WITH(tanh_matmul_add_rows(packed, 5, a, w), Catch::Contains("tanh_matmul_add_rows"));
}

namespace {
// The LSTM update composed from primitive ops, as LSTMCell's composed path.
std::pair<Var<double>, Var<double>> composed(const Var<double>& gates, const Var<double>& c_prev,
                                             bool g_tanh, bool h_tanh) {
  auto g = split(gates, 1, std::size_t(4));
  Var<double> z = g_tanh ? tanh(g[2]) : g[2];
  Var<double> c = sigmoid(g[1]) * c_prev + sigmoid(g[0]) * z;
  Var<double> h = sigmoid(g[3]) * (h_tanh ? tanh(c) : c);
  return {h, c};
}
}  // namespace

TEST_CASE("lstm_cell: gradcheck and agreement with the composed ops", "[ops][cell]") {
  for (bool g_tanh : {true, false})
    for (bool h_tanh : {true, false}) {
      INFO("g tanh " << g_tanh << ", h tanh " << h_tanh);
      Tape<double> tape;
      Rng rng(2);
      Var<double> gates = rand_param(tape, {3, 4 * 5}, rng, -2, 2);
      Var<double> c_prev = rand_param(tape, {3, 5}, rng);
      auto [h, c] = lstm_cell(gates, c_prev, g_tanh, h_tanh);
      auto [h2, c2] = composed(gates, c_prev, g_tanh, h_tanh);
      REQUIRE(xt::allclose(h.value(), h2.value(), 1e-12, 1e-14));
      REQUIRE(xt::allclose(c.value(), c2.value(), 1e-12, 1e-14));
      // Both outputs used, only h used, only c used.
      require_gradcheck(tape, {gates, c_prev}, [&] {
        auto [hh, cc] = lstm_cell(gates, c_prev, g_tanh, h_tanh);
        return concat<double>({hh, cc * 0.7}, 1);
      });
      require_gradcheck(tape, {gates, c_prev}, [&] { return lstm_cell(gates, c_prev, g_tanh, h_tanh).first; });
      require_gradcheck(tape, {gates, c_prev}, [&] { return lstm_cell(gates, c_prev, g_tanh, h_tanh).second; });
    }
}

TEST_CASE("lstm_cell: inputs that feed later ops too (the backward adds)", "[ops][cell]") {
  // The ops recorded after the cell run first in the backward, so the cell
  // finds gradients already in gates and c_prev and must add to them. H = 9:
  // whole vectors and a scalar tail.
  Tape<double> tape;
  Rng rng(4);
  Var<double> gates = rand_param(tape, {2, 4 * 9}, rng, -2, 2);
  Var<double> c_prev = rand_param(tape, {2, 9}, rng);
  require_gradcheck(tape, {gates, c_prev}, [&] {
    auto [h, c] = lstm_cell(gates, c_prev);
    return concat<double>({h, c * 0.3, gates * 0.5, square(c_prev)}, 1);
  });
}

TEST_CASE("lstm_cell over 12 chained steps: gradcheck through time", "[ops][cell]") {
  Tape<double> tape;
  Rng rng(3);
  Var<double> xs = rand_param(tape, {12, 2, 4 * 3}, rng);
  Var<double> W = rand_param(tape, {3, 4 * 3}, rng, -0.5, 0.5);
  require_gradcheck(tape, {xs, W}, [&] {
    Var<double> h = tape.constant(tg::zeros<double>(Shape{2, 3}));
    Var<double> c = h;
    for (std::size_t t = 0; t < 12; ++t) std::tie(h, c) = lstm_cell(matmul_add(select(xs, t), h, W), c);
    return h;
  });
  REQUIRE_THROWS_WITH(lstm_cell(W, W), Catch::Contains("(B, 4H) and (B, H)"));
}

namespace {
// One lstm_cell and its backward in T from the same double inputs; `shared`
// also feeds gates and c_prev to later ops, so the backward adds into them.
template <class T>
std::vector<Tensor<double>> cell_run(const std::vector<Tensor<double>>& in, bool g_tanh, bool h_tanh,
                                     bool shared) {
  Tape<T> tape;
  Var<T> gates = tape.parameter(xt::cast<T>(in[0]));
  Var<T> c_prev = tape.parameter(xt::cast<T>(in[1]));
  auto [h, c] = lstm_cell(gates, c_prev, g_tanh, h_tanh);
  Var<T> loss = sum(h * tape.constant(xt::cast<T>(in[2]))) + sum(c * tape.constant(xt::cast<T>(in[3])));
  if (shared) loss = loss + sum(gates * gates) * T(0.5) + sum(c_prev) * T(0.3);
  tape.backward(loss);
  return {xt::cast<double>(h.value()), xt::cast<double>(c.value()), xt::cast<double>(gates.grad()),
          xt::cast<double>(c_prev.grad())};
}
}  // namespace

TEST_CASE("lstm_cell in float: values and gradients as in double", "[ops][cell]") {
  // H 5 and 33 leave a tail of a 16-float vector; 16 and 128 do not. The
  // gates reach saturation (-9 .. 9). Float differs from double by the
  // rounding of its inputs' products, a few ulp.
  for (std::size_t H : {5, 16, 33, 128})
    for (bool g_tanh : {true, false})
      for (bool h_tanh : {true, false})
        for (bool shared : {false, true}) {
          INFO("H " << H << ", g tanh " << g_tanh << ", h tanh " << h_tanh << ", shared " << shared);
          Rng rng(H);
          const std::vector<Tensor<double>> in{
              uniform<double>(Shape{3, 4 * H}, -9, 9, rng), uniform<double>(Shape{3, H}, -2, 2, rng),
              uniform<double>(Shape{3, H}, -1, 1, rng), uniform<double>(Shape{3, H}, -1, 1, rng)};
          const auto f = cell_run<float>(in, g_tanh, h_tanh, shared);
          const auto d = cell_run<double>(in, g_tanh, h_tanh, shared);
          for (std::size_t k = 0; k < 4; ++k) {
            INFO("h, c, d gates, d c_prev: " << k << ", max |float - double| "
                                              << xt::amax(xt::abs(f[k] - d[k]))());
            REQUIRE(xt::allclose(f[k], d[k], 1e-6, 1e-6));
          }
        }
}

TEST_CASE("gru_cell: gradcheck and agreement with the composed ops", "[ops][cell]") {
  Tape<double> tape;
  Rng rng(5);
  Var<double> seq = rand_param(tape, {3, 2, 3 * 4}, rng, -2, 2);
  Var<double> hh = rand_param(tape, {2, 3 * 4}, rng, -2, 2);
  Var<double> h = rand_param(tape, {2, 4}, rng);
  for (std::size_t t : {0, 2}) {
    auto x = split(select(seq, t), 1, std::size_t(3));
    auto g = split(hh, 1, std::size_t(3));
    Var<double> r = sigmoid(x[0] + g[0]), z = sigmoid(x[1] + g[1]);
    Var<double> n = tanh(x[2] + r * g[2]);
    Var<double> composed = n + z * (h - n);
    REQUIRE(xt::allclose(gru_cell(seq, t, hh, h).value(), composed.value(), 1e-12, 1e-14));
    require_gradcheck(tape, {seq, hh, h}, [&] { return gru_cell(seq, t, hh, h); });
  }
  // Chained through time with the state feeding the next step twice.
  Var<double> W = rand_param(tape, {4, 3 * 4}, rng, -0.5, 0.5);
  Var<double> b = rand_param(tape, {3 * 4}, rng);
  require_gradcheck(tape, {seq, W, b}, [&] {
    Var<double> s = tape.constant(tg::zeros<double>(Shape{2, 4}));
    for (std::size_t t = 0; t < 3; ++t) s = gru_cell(seq, t, affine(s, W, b), s);
    return s;
  });
  REQUIRE_THROWS_WITH(gru_cell(seq, 3, hh, h), Catch::Contains("gru_cell"));
}

TEST_CASE("lstm_cell under no_grad keeps nothing for a backward and gives the same h and c",
          "[ops][cell]") {
  auto check = [](auto zero) {
    using T = decltype(zero);
    for (std::size_t H : {5, 16, 33}) {
      INFO("H " << H);
      Tape<T> tape;
      Rng rng(13);
      Var<T> gates = tape.parameter(uniform<T>(Shape{3, 4 * H}, T(-3), T(3), rng));
      Var<T> c0 = tape.parameter(uniform<T>(Shape{3, H}, T(-1), T(1), rng));
      for (bool g_tanh : {true, false}) {
        auto [h, c] = lstm_cell(gates, c0, g_tanh, true);
        auto guard = tape.no_grad();
        auto [h2, c2] = lstm_cell(gates, c0, g_tanh, true);
        REQUIRE(std::memcmp(h.value().data(), h2.value().data(), h.size() * sizeof(T)) == 0);
        REQUIRE(std::memcmp(c.value().data(), c2.value().data(), c.size() * sizeof(T)) == 0);
      }
    }
  };
  check(0.0f);
  check(0.0);
}

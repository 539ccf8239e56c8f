// Float64 gradient checks of matmul, transpose and the shape ops.
#include "check.hpp"

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

TEST_CASE("matmul: values and gradcheck", "[ops][linalg]") {
  Tape<double> tape;
  Var<double> a = tape.parameter(Tensor<double>{{1, 2}, {3, 4}, {5, 6}});
  Var<double> b = tape.parameter(Tensor<double>{{1, 0, 2}, {0, 1, 3}});
  REQUIRE((matmul(a, b).value() == Tensor<double>{{1, 2, 8}, {3, 4, 18}, {5, 6, 28}}));
  for (std::uint64_t seed : {1, 2, 3})
    for (auto [m, k, n] : {std::tuple{1, 1, 1}, {3, 4, 5}, {6, 1, 2}, {2, 7, 1}}) {
      Tape<double> t;
      Rng rng(seed);
      Var<double> x = rand_param(t, {std::size_t(m), std::size_t(k)}, rng);
      Var<double> w = rand_param(t, {std::size_t(k), std::size_t(n)}, rng);
      INFO("m k n = " << m << " " << k << " " << n);
      require_gradcheck(t, {x, w}, [&] { return matmul(x, w); });
    }
}

TEST_CASE("matmul over leading axes and with a reused operand", "[ops][linalg]") {
  Tape<double> tape;
  Rng rng(2);
  Var<double> x = rand_param(tape, {3, 2, 4}, rng);  // (time, batch, features)
  Var<double> w = rand_param(tape, {4, 5}, rng);
  REQUIRE(to_shape(matmul(x, w).shape()) == Shape{3, 2, 5});
  require_gradcheck(tape, {x, w}, [&] { return matmul(x, w); });
  Var<double> s = rand_param(tape, {4, 4}, rng);
  require_gradcheck(tape, {s}, [&] { return matmul(s, s); });  // both operands one leaf
}

TEST_CASE("transpose: matrix and general permutation", "[ops][linalg]") {
  Tape<double> tape;
  Rng rng(3);
  Var<double> a = rand_param(tape, {2, 3}, rng);
  REQUIRE(transpose(a).value()(2, 1) == a.value()(1, 2));
  Var<double> b = rand_param(tape, {2, 3, 4}, rng);
  Var<double> bt = transpose(b, {1, 2, 0});
  REQUIRE(to_shape(bt.shape()) == Shape{3, 4, 2});
  REQUIRE(bt.value()(2, 3, 1) == b.value()(1, 2, 3));
  require_gradcheck(tape, {a}, [&] { return transpose(a); });
  require_gradcheck(tape, {b}, [&] { return transpose(b, {1, 2, 0}); });
  REQUIRE_THROWS_WITH(transpose(b, {0, 0, 1}), Catch::Contains("not a permutation"));
}

TEST_CASE("reshape and slice: gradcheck", "[ops][shape]") {
  for (std::uint64_t seed : {1, 2}) {
    Tape<double> tape;
    Rng rng(seed);
    Var<double> a = rand_param(tape, {2, 3, 4}, rng);
    require_gradcheck(tape, {a}, [&] { return reshape(a, Shape{4, 6}); });
    for (int axis : {0, 1, 2, -1}) {
      INFO("axis " << axis);
      require_gradcheck(tape, {a}, [&] { return slice(a, axis, 1, 2); });
    }
    Var<double> s = slice(a, 2, 1, 3);
    REQUIRE(s.value()(1, 2, 0) == a.value()(1, 2, 1));
  }
}

TEST_CASE("select: one time step, axis dropped", "[ops][shape]") {
  Tape<double> tape;
  Rng rng(6);
  Var<double> seq = rand_param(tape, {4, 2, 3}, rng);
  Var<double> s = select(seq, 2);
  REQUIRE(to_shape(s.shape()) == Shape{2, 3});
  REQUIRE(s.value()(1, 2) == seq.value()(2, 1, 2));
  for (std::size_t t : {0, 3})
    require_gradcheck(tape, {seq}, [&] { return select(seq, t) * select(seq, 1); });
  REQUIRE_THROWS_WITH(select(seq, 4), Catch::Contains("out of range"));
}

TEST_CASE("concat, stack, split: values and gradcheck", "[ops][shape]") {
  Tape<double> tape;
  Rng rng(4);
  Var<double> a = rand_param(tape, {2, 3}, rng);
  Var<double> b = rand_param(tape, {2, 5}, rng);
  Var<double> c = rand_param(tape, {4, 3}, rng);
  Var<double> ab = concat<double>({a, b}, 1);
  REQUIRE(to_shape(ab.shape()) == Shape{2, 8});
  REQUIRE(ab.value()(1, 4) == b.value()(1, 1));
  require_gradcheck(tape, {a, b}, [&] { return concat<double>({a, b, a}, 1); });
  require_gradcheck(tape, {a, c}, [&] { return concat<double>({a, c}, 0); });
  for (int axis : {0, 1, 2}) {
    INFO("stack axis " << axis);
    Var<double> s = stack<double>({a, a * 2.0}, axis);
    require_gradcheck(tape, {a}, [&] { return stack<double>({a, tanh(a), a}, axis); });
    REQUIRE(s.dim() == 3);
  }
  REQUIRE(stack<double>({a, a * 2.0}, 1).value()(1, 1, 2) == Approx(2 * a.value()(1, 2)));
  Var<double> g = rand_param(tape, {3, 8}, rng);
  auto parts = split(g, 1, std::size_t(4));
  REQUIRE(parts.size() == 4);
  REQUIRE(parts[3].value()(2, 1) == g.value()(2, 7));
  // The LSTM pattern: one product split in four, each part used differently.
  require_gradcheck(tape, {g}, [&] {
    auto p = split(g, 1, std::size_t(4));
    return sigmoid(p[0]) * tanh(p[1]) + square(p[2]) - p[3];
  });
  require_gradcheck(tape, {g}, [&] {
    auto p = split(g, 1, std::vector<std::size_t>{3, 5});
    return concat<double>({p[1], p[0]}, 1);
  });
  REQUIRE_THROWS_WITH(split(g, 1, std::size_t(3)), Catch::Contains("equal parts"));
  REQUIRE_THROWS_WITH(concat<double>({a, c}, 1), Catch::Contains("does not match"));
}

TEST_CASE("index_select: repeated rows accumulate, padding row gets none", "[ops][shape]") {
  Tape<double> tape;
  Rng rng(5);
  Var<double> table = rand_param(tape, {5, 3}, rng);
  xt::xarray<std::int64_t> ids = {{0, 2}, {2, 4}, {0, 0}};
  Var<double> rows = index_select(table, ids);
  REQUIRE(to_shape(rows.shape()) == Shape{3, 2, 3});
  REQUIRE(rows.value()(1, 1, 2) == table.value()(4, 2));
  require_gradcheck(tape, {table}, [&] { return index_select(table, ids); });
  tape.clear();
  table.zero_grad();
  tape.backward(sum(index_select(table, ids)));
  REQUIRE(table.grad()(0, 1) == 3.0);  // used three times
  REQUIRE(table.grad()(1, 1) == 0.0);  // never used
  tape.clear();
  table.zero_grad();
  tape.backward(sum(index_select(table, ids, /*no_grad_index=*/0)));
  REQUIRE(table.grad()(0, 1) == 0.0);
  REQUIRE(table.grad()(2, 1) == 2.0);
}

TEST_CASE("bmm: values against matmul per batch, gradcheck with each transpose", "[ops][linalg][bmm]") {
  for (std::uint64_t seed : {1, 2})
    for (auto [B, n, k, m] : {std::tuple{1, 1, 1, 1}, {2, 3, 4, 5}, {3, 1, 2, 4}, {2, 4, 1, 3}, {1, 2, 3, 1}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          Tape<double> tape;
          Rng rng(seed);
          const std::size_t b_ = B, n_ = n, k_ = k, m_ = m;
          Var<double> a = rand_param(tape, ta ? Shape{b_, k_, n_} : Shape{b_, n_, k_}, rng);
          Var<double> b = rand_param(tape, tb ? Shape{b_, m_, k_} : Shape{b_, k_, m_}, rng);
          INFO("B n k m = " << B << " " << n << " " << k << " " << m << ", transposed " << ta << tb);
          Var<double> y = bmm(a, b, ta, tb);
          REQUIRE(to_shape(y.shape()) == Shape{b_, n_, m_});
          for (std::size_t i = 0; i < b_; ++i) {
            Var<double> ai = select(a, i), bi = select(b, i);
            Var<double> ref = matmul(ta ? transpose(ai) : ai, tb ? transpose(bi) : bi);
            REQUIRE(xt::allclose(select(y, i).value(), ref.value(), 1e-13, 1e-14));
          }
          require_gradcheck(tape, {a, b}, [&] { return bmm(a, b, ta, tb); });
        }
}

TEST_CASE("bmm: one operand used twice, and shape errors", "[ops][linalg][bmm]") {
  Tape<double> tape;
  Rng rng(4);
  Var<double> q = rand_param(tape, {2, 3, 4}, rng);
  require_gradcheck(tape, {q}, [&] { return bmm(q, q, false, true); });  // q q^T
  require_gradcheck(tape, {q}, [&] { return bmm(q, q, true, false); });  // q^T q
  Var<double> w = rand_param(tape, {2, 5, 3}, rng);
  REQUIRE_THROWS_WITH(bmm(q, w), Catch::Contains("bmm") && Catch::Contains("(2, 3, 4)") &&
                                     Catch::Contains("(2, 5, 3)"));
  REQUIRE_THROWS_WITH(bmm(q, rand_param(tape, {3, 4, 2}, rng)), Catch::Contains("do not multiply"));
  REQUIRE_THROWS_WITH(bmm(q, rand_param(tape, {4, 2}, rng)), Catch::Contains("do not multiply"));
  REQUIRE_NOTHROW(bmm(w, q));
}

TEST_CASE("unsqueeze and squeeze: shapes, values, gradcheck, errors", "[ops][shape]") {
  Tape<double> tape;
  Rng rng(5);
  Var<double> a = rand_param(tape, {2, 3}, rng);
  REQUIRE(to_shape(unsqueeze(a, 0).shape()) == Shape{1, 2, 3});
  REQUIRE(to_shape(unsqueeze(a, 1).shape()) == Shape{2, 1, 3});
  REQUIRE(to_shape(unsqueeze(a, 2).shape()) == Shape{2, 3, 1});
  REQUIRE(to_shape(unsqueeze(a, -1).shape()) == Shape{2, 3, 1});
  REQUIRE(to_shape(unsqueeze(a, -3).shape()) == Shape{1, 2, 3});
  Tensor<double> u = unsqueeze(a, 1).value();
  u.reshape({2, 3});
  REQUIRE((u == a.value()));
  Var<double> c = rand_param(tape, {2, 1, 3, 1}, rng);
  REQUIRE(to_shape(squeeze(c, 1).shape()) == Shape{2, 3, 1});
  REQUIRE(to_shape(squeeze(c, -1).shape()) == Shape{2, 1, 3});
  REQUIRE(to_shape(squeeze(squeeze(c, -1), 1).shape()) == Shape{2, 3});
  require_gradcheck(tape, {a}, [&] { return unsqueeze(a, 1) * unsqueeze(a, 0); });  // (2,1,3) x (1,2,3)
  require_gradcheck(tape, {c}, [&] { return squeeze(c, 1) * squeeze(c, 3); });   // reused
  Var<double> s = tape.parameter(Tensor<double>{4.0});
  REQUIRE(squeeze(s, 0).dim() == 0);
  REQUIRE_THROWS_WITH(squeeze(a, 0), Catch::Contains("squeeze") && Catch::Contains("extent 2, not 1"));
  REQUIRE_THROWS_WITH(unsqueeze(a, 3), Catch::Contains("unsqueeze: axis 3"));
  REQUIRE_THROWS_WITH(squeeze(a, -3), Catch::Contains("squeeze: axis -3"));
}

TEST_CASE("matmul's input gradient reads the weight as it is at each backward", "[ops][linalg]") {
  // dA = dY W^T reads a transposed copy of a weight, made once per backward
  // sweep: a weight changed between two backwards must be read anew.
  Tape<double> tape;
  Rng rng(12);
  Var<double> a = tg::test::rand_param(tape, {2, 3}, rng);
  Var<double> w = tg::test::rand_param(tape, {3, 4}, rng);
  tape.backward(sum(matmul(a, w)));
  const Tensor<double> first = a.grad();
  const Tensor<double> w_rows = xt::sum(w.value(), {1});  // dY is ones: each row of dA is W's row sums
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t k = 0; k < 3; ++k) REQUIRE(first(i, k) == Approx(w_rows(k)));
  w.value() *= 2.0;
  a.zero_grad();
  tape.backward(sum(matmul(a, w)));  // a second graph on the same tape, no clear() between
  REQUIRE(xt::allclose(a.grad(), 2.0 * first));
}

// Gradient clipping and learning-rate schedules.
#include <cstring>

#include "helpers.hpp"

using namespace tg;
using namespace tg::test;

namespace {
Var<double> scalar_with_grad(Tape<double>& tape, double g) {
  Var<double> p = tape.parameter(Tensor<double>{0.0});
  p.node()->accumulate(Tensor<double>{g});
  return p;
}
}  // namespace

TEST_CASE("clip_grad_norm: one norm over all parameters", "[clip]") {
  Tape<double> tape;
  // Gradients 3 and 4 in two parameters: global norm sqrt(9 + 16) = 5.
  Var<double> a = scalar_with_grad(tape, 3), b = scalar_with_grad(tape, 4);
  Var<double> none = tape.parameter(Tensor<double>{7.0});  // no grad: ignored
  REQUIRE(clip_grad_norm<double>({a, b, none}, 1.0) == 5.0);  // the norm before clipping
  // Scaled by 1 / (5 + 1e-6): (0.6, 0.8) up to the 1e-6 guard.
  REQUIRE(std::abs(a.grad()(0) - 3 / (5 + 1e-6)) < 1e-15);
  REQUIRE(std::abs(b.grad()(0) - 4 / (5 + 1e-6)) < 1e-15);
  REQUIRE(std::abs(a.grad()(0) - 0.6) < 1e-6);
  REQUIRE(std::abs(b.grad()(0) - 0.8) < 1e-6);
  REQUIRE_FALSE(none.has_grad());
  // Now norm ~1 <= 10: untouched, and the norm is still reported.
  const double before = a.grad()(0);
  REQUIRE(std::abs(clip_grad_norm<double>({a, b}, 10.0) - 5 / (5 + 1e-6)) < 1e-15);
  REQUIRE(a.grad()(0) == before);
}

TEST_CASE("clip_grad_norm: elements of one tensor, in float", "[clip]") {
  Tape<float> tape;
  Var<float> p = tape.parameter(Tensor<float>{0.f, 0.f});
  p.node()->accumulate(Tensor<float>{3.f, -4.f});
  REQUIRE(clip_grad_norm<float>({p}, 2.5f) == 5.f);
  REQUIRE(p.grad()(0) == Approx(1.5f));  // 3 * 2.5 / 5
  REQUIRE(p.grad()(1) == Approx(-2.f));
  REQUIRE_THROWS_AS(clip_grad_norm<float>({p}, 0.f), Error);
}

TEST_CASE("clip_grad_value clamps each element", "[clip]") {
  Tape<double> tape;
  Var<double> p = tape.parameter(Tensor<double>{0, 0, 0, 0});
  p.node()->accumulate(Tensor<double>{-3, 0.5, 2, -1});
  clip_grad_value<double>({p}, 1.0);
  REQUIRE(same(p.grad(), Tensor<double>{-1, 0.5, 1, -1}));
  REQUIRE_THROWS_AS(clip_grad_value<double>({p}, -1.0), Error);
}

TEST_CASE("StepLR: lr = base gamma^floor(e / step_size)", "[schedule]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 0, 0);
  SGD<double> opt({p}, 1.0);
  StepLR<double> sched(opt, 2, 0.5);
  const double expected[] = {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125};
  REQUIRE(opt.lr() == expected[0]);
  for (int e = 1; e < 7; ++e) {
    sched.step();
    REQUIRE(sched.epoch() == std::size_t(e));
    REQUIRE(opt.lr() == expected[e]);
  }
  sched.set_epoch(2);  // resume
  REQUIRE(opt.lr() == 0.5);
  REQUIRE_THROWS_AS(StepLR<double>(opt, 0, 0.5), Error);
}

TEST_CASE("CosineLR: half a cosine from base to eta_min over T_max", "[schedule]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 0, 0);
  SGD<double> opt({p}, 1.1);
  CosineLR<double> sched(opt, 4, 0.1);
  // lr(e) = 0.1 + 1.0 (1 + cos(pi e / 4)) / 2; cos(pi/4) = sqrt(2)/2.
  const double r = std::sqrt(2.0) / 4;
  const double expected[] = {1.1, 0.6 + r, 0.6, 0.6 - r, 0.1, 0.6 - r};  // periodic past T_max
  REQUIRE(opt.lr() == expected[0]);
  for (int e = 1; e < 6; ++e) {
    sched.step();
    REQUIRE(std::abs(opt.lr() - expected[e]) < 1e-15);
  }
  REQUIRE_THROWS_AS(CosineLR<double>(opt, 0), Error);
}

TEST_CASE("an embedding's row-sparse gradient: norm, clipping and Adam equal the dense ones bit for bit",
          "[clip][adam][rows]") {
  // grad_norm, clip_grad_norm and Adam visit only the rows index_select
  // touched (the others hold zeros); the results must be the very bits of
  // the dense path, which writing through Var::grad() forces.
  for (std::size_t row : {8, 12}) {  // 12: rows not a multiple of 8, the norm goes dense
    INFO("row length " << row);
    Tape<float> tape;
    Rng rng(3);
    const Tensor<float> init = uniform<float>(Shape{50, row}, -1, 1, rng);
    Var<float> sparse = tape.parameter(init), dense = tape.parameter(init);
    Var<float> head = tape.parameter(uniform<float>(Shape{row}, -1, 1, rng));
    Adam<float> opt_sparse({sparse, head}, AdamOptions(0.01f).weight_decay(0.01f));
    Var<float> head2 = tape.parameter(head.value());
    Adam<float> opt_dense({dense, head2}, AdamOptions(0.01f).weight_decay(0.01f));
    for (int step = 0; step < 6; ++step) {
      std::vector<std::int64_t> ids(30);
      for (auto& id : ids) id = std::int64_t(rng() % 50);
      for (auto [table, h] : {std::pair{sparse, head}, std::pair{dense, head2}}) {
        Var<float> e = index_select(table, ids.data(), Shape{ids.size()});
        tape.backward(sum(square(e * h)));
      }
      dense.grad();  // the non-const access: no rows are known any more
      REQUIRE(sparse.grad_rows() != nullptr);
      REQUIRE(dense.grad_rows() == nullptr);
      const double n_sparse = grad_norm<float>({sparse, head}), n_dense = grad_norm<float>({dense, head2});
      REQUIRE(n_sparse == n_dense);
      clip_grad_norm<float>({sparse, head}, 1.0f, n_sparse);
      clip_grad_norm<float>({dense, head2}, 1.0f, n_dense);
      REQUIRE(std::memcmp(std::as_const(sparse).grad().data(), std::as_const(dense).grad().data(),
                          init.size() * sizeof(float)) == 0);
      REQUIRE(sparse.grad_rows() != nullptr);
      opt_sparse.step();
      opt_dense.step();
      REQUIRE(std::memcmp(sparse.value().data(), dense.value().data(), init.size() * sizeof(float)) == 0);
      opt_sparse.zero_grad();
      opt_dense.zero_grad();
      tape.clear();
    }
    REQUIRE_FALSE(xt::allclose(sparse.value(), init));  // it did train
  }
}

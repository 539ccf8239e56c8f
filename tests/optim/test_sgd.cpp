// SGD against steps computed by hand. Throughout: p0 = (1, -2), gradients
// g1 = (0.5, -1), g2 = (1, 2), g3 = (-1, 0.5), lr = 0.1.
#include "helpers.hpp"

using namespace tg;
using namespace tg::test;

TEST_CASE("sgd: plain steps are p -= lr g", "[sgd]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  SGD<double> opt({p}, 0.1);
  set_grad(p, 0.5, -1);
  opt.step();
  require_near(p, 0.95, -1.9);  // (1 - 0.05, -2 + 0.1)
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, 0.85, -2.1);  // (0.95 - 0.1, -1.9 - 0.2)
  REQUIRE(opt.steps() == 2);
}

TEST_CASE("sgd: momentum buffer starts at the first gradient", "[sgd]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  SGD<double> opt({p}, SGDOptions(0.1).momentum(0.9));
  // b1 = g1 = (0.5, -1);                      p1 = (1 - 0.05, -2 + 0.1)
  set_grad(p, 0.5, -1);
  opt.step();
  require_near(p, 0.95, -1.9);
  // b2 = 0.9 b1 + g2 = (0.45 + 1, -0.9 + 2) = (1.45, 1.1)
  // p2 = (0.95 - 0.145, -1.9 - 0.11)
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, 0.805, -2.01);
  // b3 = 0.9 b2 + g3 = (1.305 - 1, 0.99 + 0.5) = (0.305, 1.49)
  // p3 = (0.805 - 0.0305, -2.01 - 0.149)
  set_grad(p, -1, 0.5);
  opt.step();
  require_near(p, 0.7745, -2.159);
}

TEST_CASE("sgd: nesterov steps along g + mu b", "[sgd]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  SGD<double> opt({p}, SGDOptions(0.1).momentum(0.9).nesterov(true));
  // b1 = (0.5, -1); d = g1 + 0.9 b1 = (0.95, -1.9); p1 = (1 - 0.095, -2 + 0.19)
  set_grad(p, 0.5, -1);
  opt.step();
  require_near(p, 0.905, -1.81);
  // b2 = (1.45, 1.1); d = g2 + 0.9 b2 = (1 + 1.305, 2 + 0.99) = (2.305, 2.99)
  // p2 = (0.905 - 0.2305, -1.81 - 0.299)
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, 0.6745, -2.109);
}

TEST_CASE("sgd: weight decay adds wd p to the gradient", "[sgd]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  SGD<double> opt({p}, SGDOptions(0.1).weight_decay(0.01));
  // d = g1 + 0.01 p0 = (0.51, -1.02); p1 = (1 - 0.051, -2 + 0.102)
  set_grad(p, 0.5, -1);
  opt.step();
  require_near(p, 0.949, -1.898);
  // d = g2 + 0.01 p1 = (1.00949, 1.98102); p2 = (0.949 - 0.100949, -1.898 - 0.198102)
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, 0.848051, -2.096102);
}

TEST_CASE("sgd: nesterov with weight decay", "[sgd]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  SGD<double> opt({p}, SGDOptions(0.1).momentum(0.5).nesterov(true).weight_decay(0.1));
  // d = g1 + 0.1 p0 = (0.6, -1.2); b1 = d; d + 0.5 b1 = (0.9, -1.8)
  // p1 = (1 - 0.09, -2 + 0.18)
  set_grad(p, 0.5, -1);
  opt.step();
  require_near(p, 0.91, -1.82);
  // d = g2 + 0.1 p1 = (1.091, 1.818); b2 = 0.5 b1 + d = (1.391, 1.218)
  // d + 0.5 b2 = (1.7865, 2.427); p2 = (0.91 - 0.17865, -1.82 - 0.2427)
  set_grad(p, 1, 2);
  opt.step();
  require_near(p, 0.73135, -2.0627);
}

TEST_CASE("sgd: rejects bad hyperparameters and bad parameter lists", "[sgd]") {
  Tape<double> tape;
  Var<double> p = param2(tape, 1, -2);
  REQUIRE_THROWS_AS(SGD<double>({p}, -0.1), Error);
  REQUIRE_THROWS_AS(SGD<double>({p}, SGDOptions(0.1).momentum(-0.5)), Error);
  REQUIRE_THROWS_AS(SGD<double>({p}, SGDOptions(0.1).nesterov(true)), Error);  // nesterov needs momentum
  REQUIRE_THROWS_AS(SGD<double>({p}, SGDOptions(0.1).weight_decay(-1.0)), Error);
  REQUIRE_THROWS_AS(SGD<double>({p, p}, 0.1), Error);  // would update p twice
  REQUIRE_THROWS_AS(SGD<double>({tape.constant(Tensor<double>{1.0})}, 0.1), Error);
  REQUIRE_THROWS_AS(SGD<double>({p * 2.0}, 0.1), Error);  // not a leaf
  REQUIRE_THROWS_AS(SGD<double>({Var<double>()}, 0.1), Error);
  SGD<double> opt({p}, 0.1);
  REQUIRE_THROWS_AS(opt.set_lr(-1.0), Error);
}

// BPTT falls out of the tape: a 20-step recurrence checked end to end, and
// the recurrent weight's gradient is the sum of its per-step contributions.
#include "check.hpp"

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {
struct Rnn {
  Var<double> W, U, b, x;  // x: (steps, batch, in)
  Var<double> run(std::size_t steps) const {
    Var<double> h = x.tape().constant(tg::zeros<double>(Shape{x.shape()[1], W.shape()[0]}));
    for (std::size_t t = 0; t < steps; ++t) {
      Var<double> xt_ = reshape(slice(x, 0, t, t + 1), Shape{x.shape()[1], x.shape()[2]});
      h = tanh(matmul(h, W) + matmul(xt_, U) + b);
    }
    return h;
  }
};
}  // namespace

TEST_CASE("20-step recurrence h = tanh(W h + U x + b): gradcheck end to end", "[recurrence]") {
  for (std::uint64_t seed : {1, 2}) {
    Tape<double> tape;
    Rng rng(seed);
    Rnn rnn{rand_param(tape, {4, 4}, rng, -0.6, 0.6), rand_param(tape, {3, 4}, rng),
            rand_param(tape, {4}, rng), rand_param(tape, {20, 2, 3}, rng)};
    require_gradcheck(tape, {rnn.W, rnn.U, rnn.b, rnn.x}, [&] { return rnn.run(20); });
  }
}

TEST_CASE("recurrent weight gradient = sum of per-step contributions", "[recurrence]") {
  // Unroll with a separate copy of W at each step: the tape gives each copy
  // its own gradient. Sharing one W must give exactly their sum.
  Tape<double> tape;
  Rng rng(3);
  const std::size_t steps = 8;
  Tensor<double> w0 = uniform<double>(Shape{3, 3}, -0.5, 0.5, rng);
  Var<double> W = tape.parameter(w0);
  Var<double> x = tape.constant(uniform<double>(Shape{2, 3}, -1, 1, rng));
  Var<double> h = x;
  for (std::size_t t = 0; t < steps; ++t) h = tanh(matmul(h, W) + x);
  tape.backward(sum(h * h));
  const Tensor<double> shared = W.grad();

  tape.clear();
  std::vector<Var<double>> copies;
  h = x;
  for (std::size_t t = 0; t < steps; ++t) {
    copies.push_back(tape.parameter(w0));
    h = tanh(matmul(h, copies.back()) + x);
  }
  tape.backward(sum(h * h));
  Tensor<double> total = tg::zeros<double>(Shape{3, 3});
  for (auto& c : copies) {
    REQUIRE(xt::amax(xt::abs(c.grad()))() > 0);  // every step contributes
    total += c.grad();
  }
  REQUIRE(xt::allclose(total, shared, 1e-12, 1e-14));
}

TEST_CASE("a chain mixing every op family: gradcheck", "[recurrence]") {
  Tape<double> tape;
  Rng rng(4);
  Var<double> x = rand_param(tape, {4, 6}, rng);
  Var<double> w = rand_param(tape, {6, 8}, rng);
  Var<double> e = rand_param(tape, {5, 6}, rng);
  xt::xarray<std::int64_t> ids = {1, 3, 3, 0};
  require_gradcheck(tape, {x, w, e}, [&] {
    Var<double> z = matmul(x + index_select(e, ids), w);
    auto g = split(z, 1, std::size_t(2));
    Var<double> h = sigmoid(g[0]) * tanh(g[1]);
    Var<double> p = softmax(concat<double>({h, transpose(h)}, 1), 0);  // (4, 8)
    Var<double> q = slice(p, 1, 2, 6);
    return mean(q, 1, true) + max(h, 0, true) - sqrt(square(q) + 1.0);
  });
}

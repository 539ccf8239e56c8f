// Pooling over time: values against loops over the real steps, gradients by
// central differences (float64, every element) with left and right padding,
// a sequence with no real step, and through a masked bidirectional LSTM.
#include "../autograd/check.hpp"
#include <tapegrad/layers/pooling.hpp>
#include <tapegrad/layers/recurrent.hpp>

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {

constexpr std::size_t kT = 5, kB = 4, kF = 3;

// Lengths 5, 2, 0, 3: padding of every kind, and one sequence with no step.
Tensor<double> mask_of(bool left_padded) {
  return sequence_mask<double>(std::vector<std::size_t>{5, 2, 0, 3}, kT, left_padded);
}

double expected(const Tensor<double>& x, const Tensor<double>& m, std::size_t b, std::size_t f,
                TimePool pool) {
  double best = 0, total = 0;
  std::size_t n = 0;
  for (std::size_t t = 0; t < kT; ++t) {
    if (m(t, b) == 0) continue;
    best = n == 0 ? x(t, b, f) : std::max(best, x(t, b, f));
    total += x(t, b, f);
    ++n;
  }
  if (n == 0) return 0;
  return pool == TimePool::max ? best : total / double(n);
}

Var<double> pooled(const Var<double>& x, const Tensor<double>& m, TimePool pool) {
  return pool == TimePool::max ? max_over_time(x, m) : mean_over_time(x, m);
}

}  // namespace

TEST_CASE("max and mean over time leave padded steps out", "[layers][pooling]") {
  for (const TimePool pool : {TimePool::max, TimePool::mean})
    for (const bool left : {true, false}) {
      INFO(to_string(pool) << (left ? " left" : " right") << "-padded");
      Tape<double> tape;
      Rng rng(3);
      // Padded steps hold the largest values: a pooling that read them would show.
      Tensor<double> v = uniform<double>({kT, kB, kF}, -1, 1, rng);
      const Tensor<double> m = mask_of(left);
      for (std::size_t t = 0; t < kT; ++t)
        for (std::size_t b = 0; b < kB; ++b)
          if (m(t, b) == 0)
            for (std::size_t f = 0; f < kF; ++f) v(t, b, f) = 5;
      const Var<double> x = tape.parameter(v);
      const Tensor<double> y = pooled(x, m, pool).value();
      REQUIRE(y.shape() == Shape{kB, kF});
      for (std::size_t b = 0; b < kB; ++b)
        for (std::size_t f = 0; f < kF; ++f) CHECK(y(b, f) == Approx(expected(v, m, b, f, pool)));
    }
}

TEST_CASE("max and mean over time: float64 gradcheck with masks", "[layers][pooling][gradcheck]") {
  for (const TimePool pool : {TimePool::max, TimePool::mean})
    for (const bool left : {true, false}) {
      INFO(to_string(pool) << (left ? " left" : " right") << "-padded");
      Tape<double> tape;
      Rng rng(7);
      const Var<double> x = rand_param(tape, {kT, kB, kF}, rng);
      const Tensor<double> m = mask_of(left);
      require_gradcheck(tape, {x}, [&] { return pooled(x, m, pool); },
                        {.atol = 1e-9, .rtol = 1e-7});
    }
}

TEST_CASE("max over time through a masked bidirectional LSTM: float64 gradcheck",
          "[layers][pooling][gradcheck]") {
  Tape<double> tape;
  Rng rng(11);
  Recurrent<double> rnn(tape, RecurrentOptions(2, 3).cell(CellType::LSTM).bidirectional(true), rng);
  const Var<double> x = rand_param(tape, {6, 3, 2}, rng);
  const std::vector<std::size_t> lengths{6, 2, 4};
  const Tensor<double> m = sequence_mask<double>(lengths, 6, /*left_padded=*/true);
  std::vector<Var<double>> inputs{x};
  for (auto& p : rnn.parameters()) inputs.push_back(p);
  for (const TimePool pool : {TimePool::max, TimePool::mean}) {
    INFO(to_string(pool));
    require_gradcheck(tape, inputs, [&] {
      RecurrentInput<double> in(x);
      in.mask_lengths(lengths, Padding::Left);
      return pooled(rnn.forward(in).output, m, pool);
    }, {.atol = 1e-9, .rtol = 1e-6});
  }
}

TEST_CASE("pooling names and shapes are checked", "[layers][pooling]") {
  CHECK(parse_time_pool("max") == TimePool::max);
  CHECK(to_string(parse_time_pool("mean")) == "mean");
  CHECK_THROWS_WITH(parse_time_pool("avg"), Catch::Contains("avg"));
  Tape<double> tape;
  Rng rng(1);
  const Var<double> x = rand_param(tape, {kT, kB, kF}, rng);
  CHECK_THROWS_WITH(max_over_time(x, Tensor<double>(xt::ones<double>({kT, kB + 1}))),
                    Catch::Contains("(5, 5)"));
}

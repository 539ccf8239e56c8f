// The tape's own cost: per recorded op on tiny tensors (a chain of 10,000
// elementwise ops, forward + backward + clear), and a matmul-heavy recurrent
// step (batch 64, input 128, hidden 128, 50 steps). Twin:
// bench/torch/tape_chain.py (same chains, same step).
#include <tapegrad/autograd/autograd.hpp>
#include "bench/result_reporter.hpp"

namespace {

using namespace tg;
constexpr int kOps = 10000;

// y = x; alternately y = y * cm and y = y + ca; backward of sum(y).
void chain(benchmark::State& state, const Shape& shape) {
  Tape<float> tape;
  Rng rng(1);
  Var<float> x = tape.parameter(uniform<float>(shape, 0, 1, rng));
  Var<float> cm = tape.constant(uniform<float>(shape, 1 - 1e-4f, 1 + 1e-4f, rng));
  Var<float> ca = tape.constant(uniform<float>(shape, -1e-4f, 1e-4f, rng));
  for (auto _ : state) {
    x.zero_grad();
    Var<float> y = x;
    for (int i = 0; i < kOps; ++i) y = i % 2 == 0 ? y * cm : y + ca;
    tape.backward(sum(y));
    benchmark::DoNotOptimize(x.grad().data());
    y = Var<float>();
    tape.clear();
  }
}

void BM_chain_4(benchmark::State& state) { chain(state, {4}); }
void BM_chain_64x128(benchmark::State& state) { chain(state, {64, 128}); }

// h_t = tanh(x_t W + h_{t-1} U + b), 50 steps, loss = mean(h^2), backward.
void BM_rnn_step(benchmark::State& state) {
  const std::size_t B = 64, I = 128, H = 128, T = 50;
  Tape<float> tape;
  Rng rng(1);
  const float a = 1.0f / std::sqrt(float(H));
  Var<float> W = tape.parameter(uniform<float>({I, H}, -a, a, rng));
  Var<float> U = tape.parameter(uniform<float>({H, H}, -a, a, rng));
  Var<float> b = tape.parameter(uniform<float>({H}, -a, a, rng));
  Var<float> xs = tape.constant(normal<float>({T, B, I}, 0, 1, rng));
  for (auto _ : state) {
    for (Var<float>* p : {&W, &U, &b}) p->zero_grad();
    Var<float> h = tape.constant(tg::zeros<float>(Shape{B, H}));
    for (std::size_t t = 0; t < T; ++t) h = tanh(matmul(select(xs, t), W) + matmul(h, U) + b);
    tape.backward(mean(square(h)));
    benchmark::DoNotOptimize(W.grad().data());
    h = Var<float>();
    tape.clear();
  }
}

const bool registered = [] {
  auto& m = tg::bench::metrics();
  m["BM_chain_4"] = {"tape_chain_4", "us_per_op", 1e6 / kOps};
  m["BM_chain_64x128"] = {"tape_chain_64x128", "us_per_op", 1e6 / kOps};
  m["BM_rnn_step"] = {"rnn_step_b64_h128", "ms", 1e3};
  return true;
}();

}  // namespace

BENCHMARK(BM_chain_4)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_chain_64x128)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_rnn_step)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) {
  tg::blas::set_num_threads(1);
  return tg::bench::run_main(argc, argv);
}

// Forward + backward of whole recurrent layers, against the PyTorch twin
// bench/torch/lstm_layer.py: LSTM, batch 64, time 200, input 128, hidden 128,
// loss = mean(output^2) so the backward goes through every step. Also the
// MNIST shapes (batch 50, 28 steps of 28 inputs, hidden 128) for each cell.
#include "bench/result_reporter.hpp"
#include <tapegrad/layers/recurrent.hpp>

namespace {

using namespace tg;

void run_layer(benchmark::State& state, CellType cell, std::size_t T, std::size_t B,
               std::size_t I, std::size_t H) {
  Tape<float> tape;
  Rng rng(1);
  Recurrent<float> layer(tape, RecurrentOptions(I, H).cell(cell).init(RecurrentInit::Torch), rng);
  Var<float> x = tape.constant(normal<float>({T, B, I}, 0, 1, rng));
  for (auto _ : state) {
    for (auto& p : layer.parameters()) p.zero_grad();
    tape.backward(mean(square(layer.forward(x).output)));
    tape.clear();
  }
}

void BM_lstm_layer(benchmark::State& s) { run_layer(s, CellType::LSTM, 200, 64, 128, 128); }
void BM_mnist_rnn_layer(benchmark::State& s) { run_layer(s, CellType::RNN, 28, 50, 28, 128); }
void BM_mnist_lstm_layer(benchmark::State& s) { run_layer(s, CellType::LSTM, 28, 50, 28, 128); }
void BM_mnist_gru_layer(benchmark::State& s) { run_layer(s, CellType::GRU, 28, 50, 28, 128); }

const bool registered = [] {
  auto& m = tg::bench::metrics();
  m["BM_lstm_layer"] = {"lstm_layer", "ms", 1e3};
  m["BM_mnist_rnn_layer"] = {"mnist_rnn_layer", "ms", 1e3};
  m["BM_mnist_lstm_layer"] = {"mnist_lstm_layer", "ms", 1e3};
  m["BM_mnist_gru_layer"] = {"mnist_gru_layer", "ms", 1e3};
  return true;
}();

}  // namespace

BENCHMARK(BM_lstm_layer)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_mnist_rnn_layer)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_mnist_lstm_layer)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_mnist_gru_layer)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) {
  tg::blas::set_num_threads(1);
  return tg::bench::run_main(argc, argv);
}

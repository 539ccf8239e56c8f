#include "apps/lecture_examples/lecture.hpp"

namespace tg::lecture {
namespace {

Var<double> one_step(Tape<double>& tape, const std::vector<double>& x) {
  Tensor<double> t = Tensor<double>::from_shape(Shape{1, 1, x.size()});
  std::copy(x.begin(), x.end(), t.data());
  return tape.constant(std::move(t));
}

std::vector<double> values(const Var<double>& v) {
  return std::vector<double>(v.value().begin(), v.value().end());
}

}  // namespace

std::vector<Step> rnn_example(const std::vector<std::vector<double>>& inputs) {
  Tape<double> tape;
  Rng rng(0);  // the weights are all overwritten below
  Recurrent<double> rnn(
      tape, RecurrentOptions(2, 2).cell(CellType::RNN).activation(Activation::Identity), rng);
  auto& cell = dynamic_cast<RNNCell<double>&>(rnn.cell(0, 0));
  cell.weight_ih.value().fill(1);
  cell.weight_hh.value().fill(1);
  cell.bias.value().fill(0);
  Linear<double> out(tape, 2, 2, rng, /*bias=*/false);
  out.weight.value().fill(1);

  auto no_grad = tape.no_grad();
  std::vector<State<double>> memory = {{tape.constant(tg::zeros<double>(Shape{1, 2})), {}}};
  std::vector<Step> steps;
  for (const auto& x : inputs) {
    RecurrentOutput<double> r = rnn.forward(RecurrentInput(one_step(tape, x)).initial(memory));
    memory = r.final;
    steps.push_back({x, values(memory[0].h), values(out(r.output))});
  }
  return steps;
}

std::vector<Step> lstm_example(const std::vector<std::vector<double>>& inputs) {
  Tape<double> tape;
  Rng rng(0);
  Recurrent<double> lstm(tape,
                         RecurrentOptions(3, 1)
                             .cell(CellType::LSTM)
                             .cell_activation(Activation::Identity)
                             .output_activation(Activation::Identity),
                         rng);
  auto& cell = dynamic_cast<LSTMCell<double>&>(lstm.cell(0, 0));
  // Columns of W_ih (3, 4) are the gates i, f, g, o; rows the inputs x1 x2 x3.
  cell.weight_ih.value() = Tensor<double>{{0, 0, 1, 0}, {100, 100, 0, 0}, {0, 0, 0, 100}};
  cell.weight_hh.value().fill(0);
  cell.bias.value() = Tensor<double>{-10, 10, 0, -10};

  auto no_grad = tape.no_grad();
  std::vector<State<double>> memory = {{tape.constant(tg::zeros<double>(Shape{1, 1})),
                                        tape.constant(tg::zeros<double>(Shape{1, 1}))}};
  std::vector<Step> steps;
  for (const auto& x : inputs) {
    RecurrentOutput<double> r = lstm.forward(RecurrentInput(one_step(tape, x)).initial(memory));
    memory = r.final;
    steps.push_back({x, values(memory[0].c), values(r.output)});
  }
  return steps;
}

std::vector<std::vector<double>> rnn_inputs(bool order_changed) {
  if (order_changed) return {{2, 2}, {1, 1}, {1, 1}};
  return {{1, 1}, {1, 1}, {2, 2}};
}

std::vector<std::vector<double>> lstm_inputs() {
  const double x1[] = {1, 3, 2, 4, 2, 1, 3, 6, 1};
  const double x2[] = {0, 1, 0, 1, 0, 0, -1, 1, 0};
  const double x3[] = {0, 0, 0, 0, 0, 1, 0, 0, 1};
  std::vector<std::vector<double>> xs;
  for (int t = 0; t < 9; ++t) xs.push_back({x1[t], x2[t], x3[t]});
  return xs;
}

}  // namespace tg::lecture

// The lecture's two worked examples (docs/protocols.md section 1), run through the
// generic Recurrent layer with hand-set weights, one step at a time so every
// step's memory can be shown: the final state of one call is the initial
// state of the next.
#pragma once

#include <vector>

#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>

namespace tg::lecture {

struct Step {
  std::vector<double> input, memory, output;
};

// 1a: two inputs, two linear hidden units fed back through memory, two linear
// outputs; every weight 1, no bias, memory starting at 0.
std::vector<Step> rnn_example(const std::vector<std::vector<double>>& inputs);

// 1b: one LSTM memory cell over inputs (x1, x2, x3): z = x1 with g = identity,
// input gate sigmoid(100 x2 - 10), forget gate sigmoid(100 x2 + 10), output
// gate sigmoid(100 x3 - 10), h = identity, c_0 = 0.
std::vector<Step> lstm_example(const std::vector<std::vector<double>>& inputs);

// The input sequences of the slides.
std::vector<std::vector<double>> rnn_inputs(bool order_changed);
std::vector<std::vector<double>> lstm_inputs();

}  // namespace tg::lecture

// The lecture's worked examples must give the slides' numbers.
#include <catch2/catch.hpp>

#include "apps/lecture_examples/lecture.hpp"

using namespace tg::lecture;

TEST_CASE("simple RNN: outputs depend on the order of the inputs", "[lecture]") {
  const std::vector<std::vector<double>> expected = {{4, 4}, {12, 12}, {32, 32}};
  const std::vector<std::vector<double>> changed = {{8, 8}, {20, 20}, {44, 44}};
  auto a = rnn_example(rnn_inputs(false));
  auto b = rnn_example(rnn_inputs(true));
  REQUIRE(a.size() == 3);
  for (std::size_t t = 0; t < 3; ++t) {
    REQUIRE(a[t].output == expected[t]);
    REQUIRE(b[t].output == changed[t]);
  }
  REQUIRE(a[1].memory == std::vector<double>{6, 6});  // 1 + 1 + 2 + 2
}

TEST_CASE("LSTM memory cell: add, reset and output as on the slide", "[lecture]") {
  const double memory[] = {0, 3, 3, 7, 7, 7, 0, 6, 6};
  const double y[] = {0, 0, 0, 0, 0, 7, 0, 0, 6};
  auto steps = lstm_example(lstm_inputs());
  REQUIRE(steps.size() == 9);
  for (std::size_t t = 0; t < 9; ++t) {
    INFO("t = " << t + 1);
    REQUIRE(steps[t].memory[0] == Approx(memory[t]).margin(1e-2));
    REQUIRE(steps[t].output[0] == Approx(y[t]).margin(1e-2));
  }
}

// lecture_examples: the lecture's worked examples, step by step, through the
// generic RNN and LSTM layers.
#include <cstdio>
#include <cstring>

#include <fmt/core.h>

#include "apps/lecture_examples/lecture.hpp"

namespace {

std::string vec(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:g}", i ? " " : "", v[i] + 0.0);
  return s;
}

void print_rnn(bool order_changed) {
  fmt::print("\nRNN, all weights 1, linear units, memory starts at 0 0{}\n",
             order_changed ? " (order changed)" : "");
  fmt::print("  {:>4}  {:>8}  {:>10}  {:>10}\n", "step", "input", "memory", "output");
  int t = 1;
  for (const auto& s : tg::lecture::rnn_example(tg::lecture::rnn_inputs(order_changed)))
    fmt::print("  {:>4}  {:>8}  {:>10}  {:>10}\n", t++, vec(s.input), vec(s.memory), vec(s.output));
}

void print_lstm() {
  fmt::print("\nLSTM, one memory cell: x2 = 1 adds x1 to memory, x2 = -1 resets it, x3 = 1 outputs it\n");
  fmt::print("  {:>4}  {:>10}  {:>8}  {:>8}\n", "step", "x1 x2 x3", "memory", "y");
  int t = 1;
  for (const auto& s : tg::lecture::lstm_example(tg::lecture::lstm_inputs()))
    fmt::print("  {:>4}  {:>10}  {:>8.3f}  {:>8.3f}\n", t++, vec(s.input), s.memory[0] + 0.0,
               s.output[0] + 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      fmt::print(
          "usage: lecture_examples\n\n"
          "Prints the lecture's two worked examples step by step (input, memory,\n"
          "output), computed by tapegrad's generic RNN and LSTM layers with the\n"
          "slides' hand-set weights: the simple RNN in both input orders, and the\n"
          "LSTM memory cell. Takes no options.\n");
      return 0;
    }
    fmt::print(stderr, "lecture_examples: unknown option '{}' (try --help)\n", argv[i]);
    return 2;
  }
  print_rnn(false);
  print_rnn(true);
  print_lstm();
  return 0;
}

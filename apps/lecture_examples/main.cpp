// lecture_examples: the lecture's worked examples, step by step, through the
// generic RNN and LSTM layers. The command line is the apps' frame without
// the training flags (apps/common/frame.hpp): --help, "prog: error:" and exit
// code 2 for anything else.
#include <fmt/core.h>

#include "apps/common/main.hpp"
#include "apps/lecture_examples/lecture.hpp"

namespace {

std::string vec(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:g}", i ? " " : "", v[i] + 0.0);
  return s;
}

void print_rnn(std::FILE* out, bool order_changed) {
  fmt::print(out, "\nRNN, all weights 1, linear units, memory starts at 0 0{}\n",
             order_changed ? " (order changed)" : "");
  fmt::print(out, "  {:>4}  {:>8}  {:>10}  {:>10}\n", "step", "input", "memory", "output");
  int t = 1;
  for (const auto& s : tg::lecture::rnn_example(tg::lecture::rnn_inputs(order_changed)))
    fmt::print(out, "  {:>4}  {:>8}  {:>10}  {:>10}\n", t++, vec(s.input), vec(s.memory), vec(s.output));
}

void print_lstm(std::FILE* out) {
  fmt::print(out, "\nLSTM, one memory cell: x2 = 1 adds x1 to memory, x2 = -1 resets it, x3 = 1 outputs it\n");
  fmt::print(out, "  {:>4}  {:>10}  {:>8}  {:>8}\n", "step", "x1 x2 x3", "memory", "y");
  int t = 1;
  for (const auto& s : tg::lecture::lstm_example(tg::lecture::lstm_inputs()))
    fmt::print(out, "  {:>4}  {:>10}  {:>8.3f}  {:>8.3f}\n", t++, vec(s.input), s.memory[0] + 0.0,
               s.output[0] + 0.0);
}

std::string fixed(double v) { return fmt::format("{:.3f}", v + 0.0); }

// The report (--report): the examples as tables, with what they show.
void add_report(tg::train::Report& r) {
  r.describe(
      "## What this is\n\nThe lecture's two worked examples, computed by tapegrad's generic recurrent "
      "layers with the slides' hand-set weights (nothing is trained): a simple RNN whose output depends on "
      "the order of its inputs, and an LSTM memory cell whose gates are driven by the inputs. Each table "
      "lists the steps as the slides do: the input, the memory after the step, the output.");
  r.describe(
      "## The simple RNN\n\nTwo linear units (no squashing), every weight 1, no bias, the memory $h$ "
      "starting at 0 0, and two linear outputs on the memory:\n\n"
      "$$h^t = x^t W_i + h^{t-1} W_h, \\qquad y^t = h^t W_o, \\qquad W_i = W_h = W_o = "
      "\\begin{pmatrix} 1 & 1 \\\\ 1 & 1 \\end{pmatrix}$$\n\n"
      "so each unit of $h^t$ is $x_1^t + x_2^t + h_1^{t-1} + h_2^{t-1}$ and each output twice that.");
  r.describe(
      "## The LSTM memory cell\n\nOne cell with linear input and output activations; the input $x_1$ is "
      "what may be stored, $x_2$ drives the input and forget gates, $x_3$ the output gate (the slides' "
      "weights of 100 and biases of $\\pm 10$ make each gate nearly 0 or 1):\n\n"
      "$$\\begin{aligned} z &= x_1, & z_i &= \\sigma(100 x_2 - 10), & z_f &= \\sigma(100 x_2 + 10), & "
      "z_o &= \\sigma(100 x_3 - 10) \\\\ c^t &= z_f\\, c^{t-1} + z_i\\, z, & y^t &= z_o\\, c^t "
      "\\end{aligned}$$\n\n"
      "$x_2 = 1$ adds $x_1$ to the memory, $x_2 = -1$ erases it, $x_3 = 1$ lets it out; otherwise the "
      "memory holds and the output is 0.");
  for (bool changed : {false, true}) {
    std::vector<std::vector<std::string>> rows;
    int t = 1;
    for (const auto& s : tg::lecture::rnn_example(tg::lecture::rnn_inputs(changed)))
      rows.push_back({std::to_string(t++), vec(s.input), vec(s.memory), vec(s.output)});
    r.table(changed ? "## The RNN, the inputs in another order\n\nThe same three inputs with [2 2] first: "
                      "the outputs differ, because the memory carries what came before. The order matters."
                    : "## The RNN, inputs [1 1], [1 1], [2 2]\n\nThe memory after each step and the output "
                      "read from it.",
            {"step", "input x", "memory h", "output y"}, rows);
  }
  std::vector<std::vector<std::string>> rows;
  int t = 1;
  for (const auto& s : tg::lecture::lstm_example(tg::lecture::lstm_inputs()))
    rows.push_back({std::to_string(t++), vec(s.input), fixed(s.memory[0]), fixed(s.output[0])});
  r.table("## The LSTM memory cell, the slides' nine steps\n\nThe memory grows where $x_2 = 1$ (3, then "
          "3 + 4 = 7), is read where $x_3 = 1$ (7 at step 6), is erased where $x_2 = -1$ (step 7), and holds "
          "6 from step 8 on, read at step 9.",
          {"step", "x1 x2 x3", "memory c", "output y"}, rows);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tg;
  const app::Program program{
      "lecture_examples",
      "Prints the lecture's two worked examples step by step (input, memory, output), computed by "
      "tapegrad's generic RNN and LSTM layers with the slides' hand-set weights: the simple RNN in both "
      "input orders, and the LSTM memory cell. Trains nothing; --report writes the examples as a notebook.",
      ""};
  const auto add_flags = [](app::Frame& frame) {
    // No training flags (the frame's footer would speak of them); --report.
    frame.cli().footer(
        "exit codes: 0 success, 1 the report cannot be written, 2 usage (an option\n"
        "or argument: it takes only --report).");
    frame.add_report_flag();
  };
  return app::main(argc, argv, program, add_flags, [](app::Frame& frame, const parallel::Environment&) {
    print_rnn(frame.out(), false);
    print_rnn(frame.out(), true);
    print_lstm(frame.out());
    if (frame.reporting()) add_report(frame.report());
  });
}

#include "apps/common/explain.hpp"

namespace tg::app {

std::string cell_equations(const std::string& cell) {
  if (cell == "lstm")
    return "An **LSTM** step (Hochreiter & Schmidhuber 1997, as the lecture draws it: the input $z$, "
           "three gates, a memory cell $c$):\n\n"
           "$$\\begin{aligned}\n"
           "z^t &= \\tanh(x^t W_z + h^{t-1} U_z + b_z) & z_i^t &= \\sigma(x^t W_i + h^{t-1} U_i + b_i)\\\\\n"
           "z_f^t &= \\sigma(x^t W_f + h^{t-1} U_f + b_f) & z_o^t &= \\sigma(x^t W_o + h^{t-1} U_o + b_o)\\\\\n"
           "c^t &= z_f^t \\odot c^{t-1} + z_i^t \\odot z^t & h^t &= z_o^t \\odot \\tanh(c^t)\n"
           "\\end{aligned}$$\n\n"
           "The input gate $z_i$ lets the input into the memory, the forget gate $z_f$ keeps (1) or "
           "erases (0) what the memory holds, the output gate $z_o$ lets it out. Because $c^t$ is a "
           "gated sum rather than a squashed product, the gradient can travel back over many steps.";
  if (cell == "gru")
    return "A **GRU** step (Cho et al. 2014): a reset gate $r$, an update gate $z$, no separate "
           "memory:\n\n"
           "$$\\begin{aligned}\n"
           "r^t &= \\sigma(x^t W_r + h^{t-1} U_r + b_r) & z^t &= \\sigma(x^t W_z + h^{t-1} U_z + b_z)\\\\\n"
           "n^t &= \\tanh\\big(x^t W_n + b_n + r^t \\odot (h^{t-1} U_n + b'_n)\\big) & "
           "h^t &= (1 - z^t) \\odot n^t + z^t \\odot h^{t-1}\n"
           "\\end{aligned}$$\n\n"
           "$z^t$ near 1 keeps the old state, near 0 takes the new candidate $n^t$.";
  return "A simple (Elman) **RNN** step: the memory $h$ is the hidden layer's last output, fed back "
         "with the next input:\n\n"
         "$$h^t = \\tanh(x^t W_i + h^{t-1} W_h + b)$$\n\n"
         "The same weights at every step; the gradient through $t$ steps is a product of $t$ Jacobians, "
         "which is why it vanishes (or explodes) over long sequences.";
}

}  // namespace tg::app

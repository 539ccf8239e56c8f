// A model written against tapegrad's installed headers alone: a GRU reads a
// padded batch of sequences and attention pooling over its outputs picks
// what the classifier sees.
//
// The task: each step of a sequence carries one of 4 symbols (one-hot) and a
// marker bit; exactly one real step is marked. The class is the marked
// step's symbol. Sequences are 5 to 10 steps long, padded to 10.
//
//   x (B, T, 5), mask (B, T)
//     -> GRU (hidden H, batch first)               hs (B, T, H)
//     -> score_t = tanh(hs_t W) q                  (B, T)
//     -> alpha = masked_softmax(score, mask)       (B, T): padding gets 0
//     -> context = sum_t alpha_t hs_t              (B, H), as a batched product
//     -> Linear H -> 4                             logits (B, 4)
//
// It checks the model's gradients in float64 (gradcheck, both modes), trains
// it in float with Adam and scores held-out sequences. It prints what it
// found and exits 1 when a check fails: a gradient, the loss not falling, or
// a held-out accuracy under 90%.
#include <cstdio>
#include <cstdint>
#include <vector>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/optim/adam.hpp>

namespace {

using namespace tg;

constexpr std::size_t kSymbols = 4, kInput = kSymbols + 1, kSteps = 10, kMinLength = 5;

template <class T>
struct Batch {
  Tensor<T> x;     // (B, T, 5)
  Tensor<T> mask;  // (B, T): 1 on real steps
  std::vector<std::int64_t> labels;
};

template <class T>
Batch<T> make_batch(std::size_t count, std::size_t steps, Rng& rng) {
  std::uniform_int_distribution<std::size_t> length(std::min(kMinLength, steps), steps);
  std::uniform_int_distribution<std::size_t> symbol(0, kSymbols - 1);
  Batch<T> b{zeros<T>(Shape{count, steps, kInput}), zeros<T>(Shape{count, steps}), {}};
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t len = length(rng);
    const std::size_t marked = std::uniform_int_distribution<std::size_t>(0, len - 1)(rng);
    for (std::size_t t = 0; t < len; ++t) {
      const std::size_t s = symbol(rng);
      b.x(i, t, s) = T(1);
      b.mask(i, t) = T(1);
      if (t == marked) {
        b.x(i, t, kSymbols) = T(1);
        b.labels.push_back(std::int64_t(s));
      }
    }
  }
  return b;
}

// The model, templated on the scalar: float to train, double to check.
template <class T>
struct AttentionPooling : Module<T> {
  AttentionPooling(Tape<T>& tape, std::size_t hidden, Rng& rng)
      : gru(tape, gru_options(hidden), rng),
        score(tape, hidden, hidden, rng),
        query(tape.parameter(uniform<T>(Shape{hidden, 1}, T(-0.5), T(0.5), rng))),
        head(tape, hidden, kSymbols, rng) {
    this->register_module("gru", gru);
    this->register_module("score", score);
    this->register_parameter("query", query);
    this->register_module("head", head);
  }

  Var<T> forward(const Tensor<T>& x, const Tensor<T>& mask) const {
    Tape<T>& tape = query.tape();
    Var<T> hs = gru.forward(RecurrentInput(tape.constant(x)).mask(mask)).output;  // (B, T, H)
    const std::size_t B = hs.shape()[0], steps = hs.shape()[1];
    Var<T> scores = reshape(matmul(tanh(score(hs)), query), Shape{B, steps});
    Var<T> alpha = masked_softmax(scores, mask);
    Var<T> context = squeeze(bmm(unsqueeze(alpha, 1), hs), 1);
    return head(context);
  }

  static RecurrentOptions gru_options(std::size_t hidden) {
    return RecurrentOptions(kInput, hidden).cell(CellType::GRU).batch_first(true);
  }

  Recurrent<T> gru;
  Linear<T> score;
  Var<T> query;  // (H, 1)
  Linear<T> head;
};

// float64 gradients of a small instance against central differences, in
// both of gradcheck's modes.
bool check_gradients() {
  Tape<double> tape;
  Rng rng(3);
  AttentionPooling<double> model(tape, 3, rng);
  const Batch<double> b = make_batch<double>(3, 6, rng);
  bool ok = true;
  for (GradcheckMode mode : {GradcheckMode::projection, GradcheckMode::jacobian}) {
    GradcheckOptions options;
    options.mode = mode;
    const GradcheckResult r = gradcheck(
        tape, model.parameters(),
        [&] {
          Var<double> logits = model.forward(b.x, b.mask);
          return mode == GradcheckMode::jacobian ? logits : cross_entropy(logits, b.labels);
        },
        options);
    std::printf("gradcheck %s: %s, %zu parameters, %zu entries, max abs error %.3g\n",
                mode == GradcheckMode::jacobian ? "jacobian" : "projection", r.ok ? "ok" : "FAILED",
                model.parameters().size(), r.entries_checked, r.max_abs_error);
    if (!r.ok) std::printf("%s\n", r.report().c_str());
    ok = ok && r.ok;
  }
  return ok;
}

double accuracy(const AttentionPooling<float>& model, Tape<float>& tape, const Batch<float>& set) {
  std::size_t correct = 0;
  {
    auto no_grad = tape.no_grad();
    const Var<float> logits = model.forward(set.x, set.mask);
    const Tensor<float>& z = logits.value();
    for (std::size_t i = 0; i < set.labels.size(); ++i) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < kSymbols; ++c)
        if (z(i, c) > z(i, best)) best = c;
      correct += std::int64_t(best) == set.labels[i];
    }
  }
  tape.clear();
  return double(correct) / double(set.labels.size());
}

}  // namespace

int main() {
  try {
    const bool gradients_ok = check_gradients();

    Tape<float> tape;
    Rng rng(1);
    AttentionPooling<float> model(tape, 16, rng);
    Adam<float> adam(model.parameters(), 1e-2f);
    Rng data(2);
    const Batch<float> held_out = make_batch<float>(500, kSteps, data);
    const std::size_t steps = 300;
    double first = 0, last = 0;
    for (std::size_t step = 1; step <= steps; ++step) {
      const Batch<float> b = make_batch<float>(32, kSteps, data);
      Var<float> loss = cross_entropy(model.forward(b.x, b.mask), b.labels);
      const double l = loss.item();
      tape.backward(loss);
      adam.step();
      adam.zero_grad();
      tape.clear();
      if (step == 1) first = l;
      // The mean of the last 20 steps' losses.
      if (step > steps - 20) last += l / 20;
      if (step == 1 || step % 100 == 0) std::printf("step %3zu  loss %.4f\n", step, l);
    }
    const double acc = accuracy(model, tape, held_out);
    std::printf("held-out accuracy %.3f on %zu sequences\n", acc, held_out.labels.size());

    const bool loss_fell = last < 0.25 * first, accurate = acc >= 0.9;
    if (!loss_fell) std::printf("FAILED: the loss went from %.4f to %.4f, not below a quarter\n", first, last);
    if (!accurate) std::printf("FAILED: held-out accuracy %.3f is under 0.9\n", acc);
    if (!gradients_ok) std::printf("FAILED: gradcheck\n");
    if (!(gradients_ok && loss_fell && accurate)) return 1;
    std::printf("consumer ok: gradcheck passed, loss %.4f -> %.4f, accuracy %.3f\n", first, last, acc);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attention_pooling: error: %s\n", e.what());
    return 1;
  }
}

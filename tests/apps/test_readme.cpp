// The README's "a model in a few lines", kept in step with it: the same calls
// on a synthetic task (the class is where a bright row sits in the first
// half of the sequence, so the model must remember it), with fewer steps.
#include <catch2/catch.hpp>

#include <tuple>

#include "layers/linear.hpp"
#include "layers/recurrent.hpp"
#include "optim/optim.hpp"

using namespace tg;

namespace {

std::tuple<Tensor<float>, std::vector<std::int64_t>> next_batch(Rng& data_rng) {
  const std::size_t T = 28, B = 50, F = 28;
  Tensor<float> x = uniform<float>(Shape{T, B, F}, 0.0f, 0.1f, data_rng);
  std::vector<std::int64_t> labels(B);
  for (std::size_t b = 0; b < B; ++b) {
    labels[b] = std::int64_t(data_rng() % 10);
    for (std::size_t f = 0; f < F; ++f) x(std::size_t(labels[b]), b, f) = 1.0f;
  }
  return {x, labels};
}

}  // namespace

TEST_CASE("the README's model trains as written", "[readme]") {
  Rng data_rng(7);
  Tape<float> tape;
  Rng rng(1);
  RecurrentOptions opts;
  opts.cell = CellType::LSTM;
  opts.input_size = 28;
  opts.hidden_size = 32;  // README: 128
  Recurrent<float> rnn(tape, opts, rng);
  Linear<float> head(tape, 32, 10, rng);
  std::vector<Var<float>> params = rnn.parameters();
  for (auto& p : head.parameters()) params.push_back(p);
  Adam<float> opt(params, 1e-2f);  // README: 1e-3 over 4000 steps

  float first_loss = 0, last_loss = 0;
  for (int step = 0; step < 150; ++step) {  // README: 4000
    auto [x, labels] = next_batch(data_rng);
    Var<float> logits = head(rnn.forward(tape.constant(x)).last());
    Var<float> loss = cross_entropy(logits, labels);
    tape.backward(loss);
    clip_grad_norm(params, 5.0f);
    opt.step();
    opt.zero_grad();
    (step == 0 ? first_loss : last_loss) = loss.item();
    tape.clear();
  }
  INFO("loss " << first_loss << " -> " << last_loss);
  REQUIRE(last_loss < 0.25f * first_loss);

  auto guard = tape.no_grad();
  auto [x, labels] = next_batch(data_rng);
  const Tensor<float> logits = head(rnn.forward(tape.constant(x)).last()).value();
  std::size_t right = 0;
  for (std::size_t b = 0; b < labels.size(); ++b) {
    std::size_t best = 0;
    for (std::size_t c = 1; c < 10; ++c)
      if (logits(b, c) > logits(b, best)) best = c;
    right += best == std::size_t(labels[b]);
  }
  REQUIRE(right >= 45);  // of 50; chance is 5
}

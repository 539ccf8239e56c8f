// An LSTM reads 12 steps of 8 features, all noise but one bright step among
// the first ten; a linear layer on its last state says which step it was.
#include <cstdio>

#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/optim/optim.hpp>
#include <tapegrad/train/trainer.hpp>
using namespace tg;

struct Classifier : Module<float> {
  Classifier(Tape<float>& tape, Rng& rng)
      : rnn(tape, RecurrentOptions(8, 32).cell(CellType::LSTM), rng), head(tape, 32, 10, rng) {
    register_module("rnn", rnn);
    register_module("head", head);
  }
  Var<float> forward(const Var<float>& x) const { return head(rnn.forward(x).last()); }
  Recurrent<float> rnn;
  Linear<float> head;
};

// Batch `seed`: x (12 steps, 64 sequences, 8 features) and the bright step of each.
std::pair<Tensor<float>, std::vector<int>> batch(std::uint64_t seed) {
  Rng rng(seed);
  Tensor<float> x = uniform<float>(Shape{12, 64, 8}, 0.0f, 0.2f, rng);
  std::vector<int> labels(64);
  for (std::size_t b = 0; b < 64; ++b) {
    labels[b] = int(rng() % 10);
    for (std::size_t f = 0; f < 8; ++f) x(labels[b], b, f) = 1.0f;
  }
  return {x, labels};
}

int main() {
  Tape<float> tape;
  Rng rng(1);
  Classifier model(tape, rng);
  std::printf("%s", model.summary().c_str());
  Adam<float> optimizer(model.parameters(), AdamOptions().lr(1e-2));

  train::Options options;
  options.batches_per_epoch = 100;
  options.epochs = 3;
  options.clip = 5.0;
  options.save = "quickstart.safetensors";  // at each evaluation; trainer.resume(path) continues it
  train::Trainer<float> trainer(tape, model.named_parameters(), optimizer, options);
  const auto test = batch(12345);  // held out: seeds below it are training batches
  trainer.fit(
      [&](const train::Batch& b) {  // one step's forward: the Trainer runs backward, clips, steps
        const auto [x, labels] = batch(b.step);
        return cross_entropy(model.forward(tape.constant(x)), labels);
      },
      [&] {  // the evaluation at each epoch end
        auto no_grad = tape.no_grad();
        model.eval();
        const double acc = accuracy(model.forward(tape.constant(test.first)), test.second);
        model.train();
        tape.clear();
        return train::Metrics{{"test_acc", acc}};
      });
  return trainer.history().back().values[0].second > 0.9 ? 0 : 1;
}

// The Trainer's callbacks as docs/writing_a_model.md shows them (its blocks
// quote this file): early stopping, a schedule, a carried tensor, the log
// line, progress lines, and an evaluation through train::for_chunks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

#include <fmt/core.h>

#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/optim/schedule.hpp>

#include "problem.hpp"

using namespace tg;
using namespace tg::test;

TEST_CASE("callbacks: the example of docs/writing_a_model.md", "[train][docs]") {
  const std::string path = (temp_dir() / "doc_callbacks.st").string();
  Problem p;
  Tape<double>& tape = p.tape;
  auto& model = p.model;
  Adam<double>& adam = p.adam;
  std::FILE* log = std::tmpfile();

  train::Options options;
  options.batches_per_epoch = 8;
  options.steps = 60;
  options.eval_every = 4;
  options.save = path;
  options.log = log;
  options.progress_every = 4;  // "  epoch 1 batch 4/8  loss 0.6912" on stderr, in a log file
  // The line of each evaluation, given the one before it.
  options.log_line = [](const train::Row& row, const train::Row& previous) {
    return fmt::format("step {}: loss {:.4f}, held out {:.4f} ({:.1f} ms/step)", row.step, row.loss,
                       row.values[0].second,
                       1e3 * (row.train_seconds - previous.train_seconds) / double(row.step - previous.step));
  };
  train::Trainer<double> trainer(tape, model.named_parameters(), adam, options);

  // Stop after 3 evaluations without a held-out loss lower by 1e-4 than the
  // best; end with the best weights.
  trainer.early_stopping({"held_out_loss", train::EarlyStopping::Mode::Min, /*patience=*/3, /*min_delta=*/1e-4});
  // The lr of a cosine over the run's 60 steps, stepped after every step.
  CosineLR<double> cosine(adam, 60);
  trainer.schedule(cosine, train::Every::Step);
  // A state carried from batch to batch (here a running mean of the
  // targets, added to the output) goes into every checkpoint.
  Tensor<double> carry = xt::zeros<double>({1, 2});
  trainer.keep("carry", carry);

  auto loss_of = [&](const train::Batch& b) {
    const std::size_t first = b.index * 4;
    Tensor<double> x = xt::view(p.x, xt::range(first, first + 4), xt::all());
    Tensor<double> y = xt::view(p.y, xt::range(first, first + 4), xt::all());
    Var<double> out = model(tape.constant(x)) + tape.constant(carry);
    carry = 0.9 * carry + 0.1 * xt::mean(y, {0}, xt::keep_dims);
    return mse(out, tape.constant(y));
  };
  // The held-out loss over all 32 examples, 8 at a time (no_grad, the tape
  // cleared after each chunk).
  auto evaluate = [&] {
    double sum = 0;
    train::for_chunks(tape, 32, 8, [&](std::size_t begin, std::size_t count) {
      Tensor<double> x = xt::view(p.x, xt::range(begin, begin + count), xt::all());
      Tensor<double> y = xt::view(p.y, xt::range(begin, begin + count), xt::all());
      sum += mse(model(tape.constant(x)), tape.constant(y)).item() * double(count);
    });
    return train::Metrics{{"held_out_loss", sum / 32}};
  };
  trainer.fit(loss_of, evaluate);
  const train::Best& best = trainer.best();  // {value, step, epoch, since, stopped}

  CHECK(best.stopped);
  CHECK(trainer.step() < 60);
  CHECK(best.step + 4 * best.since == trainer.step());
  CHECK(evaluate()[0].second == best.value);  // the best weights are back
  CHECK(std::abs(best.value - p.evaluate()[0].second) < 1e-12);  // the chunks' mean is the mean
  CHECK(adam.lr() == cosine.lr_at(trainer.step()));
  CHECK(load_safetensors(path).tensors.count("state.carry") == 1);
  std::rewind(log);
  char first[128] = {};
  REQUIRE(std::fgets(first, sizeof first, log));
  std::fclose(log);
  CHECK_THAT(first, Catch::StartsWith("step 4: loss ") && Catch::Contains(", held out ") && Catch::EndsWith(" ms/step)\n"));
}

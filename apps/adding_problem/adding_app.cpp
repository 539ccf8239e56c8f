#include "apps/adding_problem/adding_app.hpp"

#include <fmt/core.h>

#include "checkpoint/state.hpp"
#include "optim/adam.hpp"

namespace tg::adding {
namespace {

// The held-out set's seed: fixed, so every run is scored on the same data.
constexpr std::uint64_t kHeldOutSeed = 20250101;

}  // namespace

// ---------------------------------------------------------------- flags

void add_flags(app::Frame& frame, Settings& s) {
  CLI::App& cli = frame.cli();
  cli.add_option("--cell", s.cell, "recurrent cell: rnn (Elman, tanh: fails at T = 50), lstm or gru")
      ->check(CLI::IsMember({"rnn", "lstm", "gru"}));
  cli.add_option("--length", s.length, "steps per sequence T (one marker in each half)")
      ->check(app::finite_range(2, 10000));
  cli.add_option("--hidden", s.hidden, "hidden units")->check(app::finite_range(1, 8192));
  cli.add_option("--batch", s.batch, "sequences per training step")->check(app::finite_range(1, 10000));
  cli.add_option("--lr", s.lr, "Adam learning rate (PyTorch's defaults otherwise)")
      ->check(app::finite_range(1e-12, 10));
  cli.add_option("--eval-size", s.eval_size,
                 "held-out sequences, drawn from a fixed seed")
      ->check(app::finite_range(1, 100000));
  app::TrainingFlags d;
  d.steps = 2000;
  d.eval_every = 250;
  d.clip = 1.0;
  frame.add_training_flags(d);
  frame.cli().remove_option(frame.cli().get_option("--data"));
}

// ---------------------------------------------------------------- evaluation

Batch<float> held_out_set(std::size_t length, std::size_t count) {
  Rng rng(kHeldOutSeed);
  return make_batch<float>(length, count, rng);
}

Evaluation evaluate(const AddingModel<float>& model, Tape<float>& tape, const Batch<float>& set) {
  Evaluation ev;
  {
    auto no_grad = tape.no_grad();  // records nothing: no graph, no gradients
    Var<float> prediction = model.forward(tape.constant(set.x));
    ev.mse = mse(prediction, tape.constant(set.target)).item();
  }
  tape.clear();
  double sum = 0;
  for (float y : set.target) sum += (double(y) - 1.0) * (double(y) - 1.0);
  ev.baseline = sum / double(set.target.size());
  return ev;
}

// ---------------------------------------------------------------- the run

RunResult run(const Settings& s, const app::Frame& frame, std::FILE* log) {
  const app::TrainingFlags& f = frame.flags();
  auto say = [&](const std::string& line) {
    if (log) fmt::print(log, "{}\n", line);
  };
  RunResult res;

  // The model and its optimizer; Rng(seed) draws the initial weights.
  Tape<float> tape;
  Rng rng(f.seed);
  AddingModel<float> model(tape, parse_cell_type(s.cell), s.hidden, rng);
  Adam<float> adam(model.parameters(), float(s.lr));
  const Batch<float> held_out = held_out_set(s.length, s.eval_size);

  train::Options options = frame.trainer_options(kBatchesPerEpoch);
  options.log = log;
  train::Trainer<float> trainer(tape, model.named_parameters(), adam, options, f.seed);
  if (f.eval_only)
    ckpt::load<float>(f.load, model.named_parameters(), nullptr);  // the weights alone
  else if (!f.load.empty())
    trainer.resume(f.load);  // weights, Adam's moments, the step, the Trainer's rng
  const std::size_t saved_step =
      frame.loaded_meta().value(nlohmann::json::json_pointer("/trainer/step"), std::size_t{0});
  res.first_step = f.eval_only ? saved_step : trainer.step();
  say(fmt::format("model: {} 2->{}, head {}->1, {} parameters{}; T = {}, held-out {} sequences",
                  s.cell, s.hidden, s.hidden, model.parameter_count(),
                  f.load.empty() ? "" : fmt::format(" (from {}, step {})", f.load, res.first_step),
                  s.length, s.eval_size));
  if (f.eval_only) {
    res.final = evaluate(model, tape, held_out);
    res.last_step = res.first_step;
    say(fmt::format("step {:5d}  eval_mse {:.4f}  baseline {:.4f}", res.first_step, res.final.mse,
                    res.final.baseline));
    return res;
  }
  say(fmt::format("training: Adam lr {:g}, batch {}, clip {:g}, steps {}..{}, seed {}", s.lr, s.batch,
                  f.clip, res.first_step + 1, trainer.total_steps(), f.seed));

  // The loss of training step `at`: its batch, the forward, the loss. The
  // Trainer does the rest (backward, clipping, Adam, tape.clear()).
  auto loss_of = [&](const train::Batch& at) {
    Batch<float> b = batch_at<float>(s.length, s.batch, f.seed, at.step);
    Var<float> prediction = model.forward(tape.constant(std::move(b.x)));
    return mse(prediction, tape.constant(std::move(b.target)));
  };
  // The evaluation, every --eval-every steps and after the last one.
  auto evaluation = [&]() -> train::Metrics {
    res.final = evaluate(model, tape, held_out);
    return {{"eval_mse", res.final.mse}, {"baseline", res.final.baseline}};
  };
  res.history = trainer.fit(loss_of, evaluation);
  frame.report().training(trainer);

  res.last_step = trainer.step();
  res.train_seconds = trainer.train_seconds();
  if (res.history.empty()) res.final = evaluate(model, tape, held_out);  // already at the end
  return res;
}

}  // namespace tg::adding

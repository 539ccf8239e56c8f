#include "apps/adding_problem/adding_app.hpp"

#include <chrono>
#include <random>

#include <fmt/core.h>

#include "apps/common/cli.hpp"
#include "apps/common/model_io.hpp"
#include "apps/common/report.hpp"
#include "optim/adam.hpp"

namespace tg::adding {
namespace {

// The held-out set's seed: fixed, so every run is scored on the same data.
constexpr std::size_t kHeldOutSeed = 20250101;

bool known_cell(const std::string& name) {
  try {
    parse_cell_type(name);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// What a checkpoint must say to rebuild its model: the cell and the hidden size.
void shape_from_checkpoint(Config& c) {
  const auto meta = app::read_metadata(c.load);
  c.cell = app::metadata_value(meta, "cell", c.load);
  const std::string hidden = app::metadata_value(meta, "hidden", c.load);
  const bool digits = !hidden.empty() && hidden.find_first_not_of("0123456789") == std::string::npos;
  c.hidden = digits ? std::stoul(hidden) : 0;
  if (c.hidden == 0 || !known_cell(c.cell))
    throw Error(c.load + ": checkpoint metadata cell '" + c.cell + "', hidden '" + hidden +
                "' do not describe an adding_problem model");
}

}  // namespace

// ---------------------------------------------------------------- options

Config parse_args(int argc, char** argv) {
  Config c;
  app::Cli cli("adding_problem",
               "Trains a recurrent network on the adding problem (Hochreiter & Schmidhuber\n"
               "1997): each step carries (value, marker); the target is the sum of the two\n"
               "marked values, one in each half of the sequence. Reports the MSE on a fixed\n"
               "held-out set beside the baseline of always predicting 1.0 (about 0.167).\n"
               "The code is the example of docs/writing_a_model.md.");
  cli.option("--cell", &c.cell, "rnn (Elman, tanh: fails at T = 50), lstm or gru");
  cli.option("--length", &c.length, "steps per sequence T (at least 2)");
  cli.option("--hidden", &c.hidden, "hidden units");
  cli.option("--steps", &c.steps, "training steps (0 with --load: evaluate only)");
  cli.option("--batch", &c.batch, "sequences per training step");
  cli.option("--lr", &c.lr, "learning rate of Adam (PyTorch's defaults otherwise)");
  cli.option("--clip", &c.clip, "clip the gradients to this global norm (0: no clipping)");
  cli.option("--eval-every", &c.eval_every, "evaluate every N steps (0: only at the end)");
  cli.option("--eval-size", &c.eval_size, "held-out sequences (drawn from a fixed seed)");
  cli.option("--seed", &c.seed, "seed of the initial weights and of the training sequences");
  cli.option("--threads", &c.threads, "BLAS threads");
  cli.option("--metrics", &c.metrics,
             "write a CSV: step, loss (mean since the previous evaluation), eval_mse, "
             "elapsed_seconds");
  cli.option("--save", &c.save, "write a checkpoint (model, Adam state, metadata) at every evaluation");
  cli.option("--load", &c.load, "start from this checkpoint; its cell and hidden replace the flags");
  cli.epilog(
      "examples:\n"
      "  adding_problem                          # LSTM, T = 50, 2000 steps\n"
      "  adding_problem --cell rnn               # the simple RNN on the same task\n"
      "  adding_problem --length 100 --save lstm.safetensors --metrics lstm.csv\n"
      "  adding_problem --load lstm.safetensors --length 100 --steps 0   # evaluate\n"
      "\n"
      "output: a line per evaluation on stdout; a progress line on stderr when it is\n"
      "a terminal.\n"
      "exit codes: 0 success, 1 failure while running (checkpoint), 2 usage");
  cli.parse(argc, argv);
  validate(c);
  return c;
}

void validate(const Config& c) {
  auto need = [](bool ok, const std::string& message) {
    if (!ok) throw UsageError(message);
  };
  need(known_cell(c.cell), "--cell: unknown cell '" + c.cell + "' (expected rnn, lstm or gru)");
  need(c.length >= 2, "--length must be at least 2 (one marker in each half), got " +
                          std::to_string(c.length));
  need(c.hidden > 0, "--hidden must be at least 1");
  need(c.batch > 0, "--batch must be at least 1");
  need(c.eval_size > 0, "--eval-size must be at least 1");
  need(c.lr > 0, "--lr must be positive");
  need(c.clip >= 0, "--clip must be 0 (off) or positive");
  need(c.threads >= 1, "--threads must be at least 1");
  need(c.steps > 0 || !c.load.empty(), "--steps 0 evaluates a checkpoint: give --load PATH");
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

// ---------------------------------------------------------------- training

RunResult run(const Config& config, std::FILE* log) {
  validate(config);
  RunResult res;
  Config& cfg = res.config = config;
  if (!cfg.load.empty()) shape_from_checkpoint(cfg);

  // The model and its optimizer. Rng seeds the initial weights.
  Tape<float> tape;
  Rng rng(cfg.seed);
  AddingModel<float> model(tape, parse_cell_type(cfg.cell), cfg.hidden, rng);
  std::vector<Var<float>> params = model.parameters();
  Adam<float> opt(params, float(cfg.lr));
  if (!cfg.load.empty()) app::load_model(cfg.load, model, &opt);

  // The training sequences come from a stream of their own, so changing the
  // model (another cell, another size) does not change the data.
  std::seed_seq data_seed{cfg.seed, std::size_t(1)};
  Rng data_rng(data_seed);
  const Batch<float> held_out = held_out_set(cfg.length, cfg.eval_size);

  auto say = [&](const std::string& line) {
    if (!log) return;
    std::fprintf(log, "%s\n", line.c_str());
    std::fflush(log);
  };
  say(fmt::format("model: {} 2->{}, head {}->1, {} parameters{}; T = {}, held-out {} sequences",
                  cfg.cell, cfg.hidden, cfg.hidden, model.parameter_count(),
                  cfg.load.empty() ? "" : " (from " + cfg.load + ")", cfg.length, cfg.eval_size));

  app::MetricsCsv metrics;
  if (!cfg.metrics.empty())
    metrics = app::MetricsCsv(cfg.metrics, {"step", "loss", "eval_mse", "elapsed_seconds"});
  auto report = [&](std::size_t step, double loss) {
    res.final = evaluate(model, tape, held_out);
    res.history.push_back({step, loss, res.final, res.train_seconds});
    say(fmt::format("step {:5d}  loss {:.4f}  eval MSE {:.4f}  (baseline {:.4f}: always 1.0)  {:.1f} s",
                    step, loss, res.final.mse, res.final.baseline, res.train_seconds));
    metrics.row({double(step), loss, res.final.mse, res.train_seconds});
    if (!cfg.save.empty())
      app::save_model(cfg.save, model, &opt,
                      {{"program", "adding_problem"}, {"cell", cfg.cell},
                       {"hidden", std::to_string(cfg.hidden)}, {"length", std::to_string(cfg.length)},
                       {"step", std::to_string(step)}, {"seed", std::to_string(cfg.seed)}});
  };

  if (cfg.steps == 0) {  // --load without training: evaluate the checkpoint
    res.final = evaluate(model, tape, held_out);
    say(fmt::format("eval MSE {:.4f}  (baseline {:.4f}: always 1.0)", res.final.mse, res.final.baseline));
    return res;
  }
  say(fmt::format("training: Adam lr {:g}, batch {}, clip {:g}, {} steps, seed {}", cfg.lr, cfg.batch,
                  cfg.clip, cfg.steps, cfg.seed));
  app::Progress progress(cfg.steps, "steps");
  const auto start = std::chrono::steady_clock::now();
  double loss_sum = 0;
  std::size_t loss_count = 0;
  for (std::size_t step = 1; step <= cfg.steps; ++step) {
    Batch<float> b = make_batch<float>(cfg.length, cfg.batch, data_rng);
    Var<float> prediction = model.forward(tape.constant(std::move(b.x)));
    Var<float> loss = mse(prediction, tape.constant(std::move(b.target)));
    tape.backward(loss);  // every parameter's gradient, through all T steps
    if (cfg.clip > 0) clip_grad_norm(params, float(cfg.clip));
    opt.step();           // update the parameters from their gradients
    opt.zero_grad();      // gradients accumulate: mark them spent
    loss_sum += loss.item();
    ++loss_count;
    tape.clear();         // drop this step's graph; the parameters stay

    if (cfg.progress) progress.update(step, fmt::format("loss {:.4f}", loss.item()));
    if (step != cfg.steps && !(cfg.eval_every && step % cfg.eval_every == 0)) continue;
    if (cfg.progress) progress.finish();
    res.train_seconds = app::seconds_since(start);
    report(step, loss_sum / double(loss_count));
    loss_sum = 0;
    loss_count = 0;
  }
  return res;
}

}  // namespace tg::adding

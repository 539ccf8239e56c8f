#include "apps/adding_problem/adding_app.hpp"

#include <algorithm>
#include <sstream>

#include <fmt/core.h>

#include "apps/common/explain.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/optim/adam.hpp>

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
  cli.add_option("--compare", s.compare,
                 "with --report: also train these cells (same settings, from scratch) and draw their "
                 "held-out MSE beside this run's: all (the two others), none, or a list like rnn,gru")
      ->check([](const std::string& v) -> std::string {
        if (v == "all" || v == "none") return "";
        std::istringstream in(v);
        for (std::string c; std::getline(in, c, ',');)
          if (c != "rnn" && c != "lstm" && c != "gru") return "'" + c + "' is not a cell (rnn, lstm, gru)";
        return "";
      });
  frame.free_on_resume("--compare");
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
  // The model and its optimizer; Rng(seed) draws the initial weights.
  Tape<float> tape;
  Rng rng(f.seed);
  AddingModel<float> model(tape, parse_cell_type(s.cell), s.hidden, rng);
  Adam<float> adam(model.parameters(), float(s.lr));
  const Batch<float> held_out = held_out_set(s.length, s.eval_size);
  app::Session session(frame, tape, model, adam, frame.trainer_options(kBatchesPerEpoch), log);
  session.start();  // --load: the weights, Adam's moments, the step, the Trainer's rng
  RunResult res;
  session.say(fmt::format("model: {} 2->{}, head {}->1, {} parameters{}; T = {}, held-out {} sequences",
                          s.cell, s.hidden, s.hidden, model.parameter_count(), session.loaded_from(), s.length,
                          s.eval_size));
  session.print(model.summary());
  if (session.eval_only()) {
    res.final = evaluate(model, tape, held_out);
    static_cast<app::RunInfo&>(res) = session.info();
    session.say(fmt::format("step {:5d}  eval_mse {:.4f}  baseline {:.4f}", res.first_step, res.final.mse,
                            res.final.baseline));
    session.export_model();
    return res;
  }
  session.say(fmt::format("training: Adam lr {:g}, batch {}, clip {:g}, steps {}..{}, seed {}", s.lr, s.batch,
                          f.clip, session.info().first_step + 1, session.trainer().total_steps(), f.seed));
  // The loss of training step `at`: its batch, the forward, the loss. The
  // Trainer does the rest (backward, clipping, Adam, tape.clear()).
  auto loss_of = [&](const train::Batch& at) {
    Batch<float> b = batch_at<float>(s.length, s.batch, f.seed, at.step);
    Var<float> prediction = model.forward(tape.constant(std::move(b.x)));
    return session.ddp().loss(mse(prediction, tape.constant(std::move(b.target))));
  };
  // The evaluation, every --eval-every steps and after the last one.
  auto evaluation = [&]() -> train::Metrics {
    res.final = evaluate(model, tape, held_out);
    return {{"eval_mse", res.final.mse}, {"baseline", res.final.baseline}};
  };
  session.fit(loss_of, evaluation);
  static_cast<app::RunInfo&>(res) = session.info();
  if (res.rows.empty()) res.final = evaluate(model, tape, held_out);  // already at the end
  session.export_model();
  return res;
}

// ---------------------------------------------------------------- the report

namespace {

// The held-out MSE of each evaluation of a run.
train::Series mse_curve(const std::string& name, const std::vector<train::Row>& rows) {
  train::Series c{name, {}, {}};
  for (const train::Row& r : rows)
    for (const auto& [k, v] : r.values)
      if (k == "eval_mse") c.x.push_back(double(r.step)), c.y.push_back(v);
  return c;
}

// The same run with another cell, trained from scratch without a word.
RunResult run_other_cell(const Settings& s, const app::TrainingFlags& f, const std::string& cell) {
  app::Frame other("adding_problem", "");
  Settings settings;
  add_flags(other, settings);
  const std::size_t steps = f.steps ? f.steps : f.epochs * kBatchesPerEpoch;
  std::vector<std::string> args = {"adding_problem", "--quiet", "--cell", cell, "--length", std::to_string(s.length),
                                   "--hidden", std::to_string(s.hidden), "--batch", std::to_string(s.batch),
                                   "--lr", fmt::format("{:.17g}", s.lr), "--eval-size", std::to_string(s.eval_size),
                                   "--steps", std::to_string(steps), "--eval-every", std::to_string(f.eval_every),
                                   "--clip", fmt::format("{:.17g}", f.clip), "--seed", std::to_string(f.seed),
                                   "--threads", std::to_string(f.threads)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  other.parse(int(argv.size()), argv.data());
  return run(settings, other, nullptr);
}

// What the run is: the task, the model, the data and protocol.
void describe_run(train::Report& r, const Settings& s, const app::TrainingFlags& f, const RunResult& res) {
  r.describe(fmt::format(
      "## The task\n\nThe adding problem (Hochreiter & Schmidhuber 1997), the test of a long memory. Each "
      "sequence has $T = {}$ steps; step $t$ carries a pair $(v_t, m_t)$: a value $v_t$ drawn uniformly "
      "from $[0, 1)$ and a marker $m_t \\in \\{{0, 1\\}}$. Exactly two steps are marked, one in each half of "
      "the sequence, and the target is the sum of their values:\n\n"
      "$$y = \\sum_{{t=1}}^{{T}} m_t v_t$$\n\nThe network must keep the first marked value over up to "
      "$T$ steps. Predicting 1.0 always scores an MSE of about 1/6 = 0.167 (the **baseline**); a network "
      "that solves the task goes far below it.",
      s.length));
  r.describe(fmt::format("## The model\n\nOne {} layer of {} units reads the pairs; a linear layer maps its "
                         "last state to the prediction $\\hat y = h^T w + b$.\n\n",
                         s.cell, s.hidden) +
             app::cell_equations(s.cell) +
             "\n\nThe loss is the mean squared error over a batch of $B$ sequences, "
             "$L = \\frac{1}{B}\\sum_b (\\hat y_b - y_b)^2$.");
  r.describe("## Data and protocol\n\n" +
             train::markdown_table(
                 {"", ""},
                 {{"training data", fmt::format("fresh sequences at every step, {} per batch, drawn from "
                                                "(--seed, step): no sequence is seen twice", s.batch)},
                  {"held-out set", fmt::format("{} sequences from a fixed seed, the same for every run and cell",
                                               s.eval_size)},
                  {"optimizer", fmt::format("Adam, learning rate {:g}; gradient norm clipped to {:g}", s.lr, f.clip)},
                  {"schedule", fmt::format("steps {} to {}, held-out MSE every {} steps", res.first_step + 1,
                                           res.last_step, f.eval_every ? f.eval_every : kBatchesPerEpoch)}}));
}

// The cells of --compare, each trained the same way from scratch.
std::vector<std::string> compared_cells(const Settings& s) {
  std::vector<std::string> cells;
  if (s.compare == "all") {
    for (const char* c : {"lstm", "gru", "rnn"})
      if (c != s.cell) cells.push_back(c);
  } else if (s.compare != "none") {
    std::istringstream in(s.compare);
    for (std::string c; std::getline(in, c, ',');)
      if (c != s.cell && std::find(cells.begin(), cells.end(), c) == cells.end()) cells.push_back(c);
  }
  return cells;
}

// This run's held-out MSE curve beside the other cells' and the baseline.
void compare_cells(train::Report& r, const Settings& s, const app::TrainingFlags& f, const RunResult& res) {
  const std::vector<std::string> cells = compared_cells(s);
  std::vector<train::Series> curves{mse_curve(s.cell + " (this run)", res.rows)};
  std::vector<std::vector<std::string>> rows{
      {s.cell + " (this run)", fmt::format("{:.4f}", res.final.mse), fmt::format("{:.1f}", res.train_seconds)}};
  for (const std::string& cell : cells) {
    const RunResult other = run_other_cell(s, f, cell);
    curves.push_back(mse_curve(cell, other.rows));
    rows.push_back({cell, fmt::format("{:.4f}", other.final.mse), fmt::format("{:.1f}", other.train_seconds)});
  }
  train::Series baseline{"baseline (always 1.0)", {}, {}};
  for (const train::Row& row : res.rows) baseline.x.push_back(double(row.step)), baseline.y.push_back(res.final.baseline);
  curves.push_back(baseline);
  std::string names = s.cell;
  for (const auto& c : cells) names += ", " + c;
  r.markdown(fmt::format(
      "## The cells compared\n\nThe held-out MSE against the step of {}. {}A cell that keeps the first "
      "marked value drops far below the baseline; one that forgets stays on it.",
      names, cells.empty() ? "(--compare none: this run alone.) "
                           : "The other cells ran after this run (not in the log above), with the same "
                             "settings, seed and schedule, from scratch. "));
  r.figure(train::chart_figure("cells", {fmt::format("held-out MSE, T = {}", s.length), "step", "mean squared error",
                                         curves, true}),
           "");
  r.table("The held-out MSE after the last step:", {"cell", "held-out MSE", "training seconds"}, rows);
}

}  // namespace

void add_report(train::Report& r, const Settings& s, const app::Frame& frame, const RunResult& res) {
  describe_run(r, s, frame.flags(), res);
  r.plot_with("baseline", "mse");
  if (!frame.flags().eval_only && !res.rows.empty()) compare_cells(r, s, frame.flags(), res);
}

}  // namespace tg::adding

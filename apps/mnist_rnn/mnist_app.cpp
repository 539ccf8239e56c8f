#include "apps/mnist_rnn/mnist_app.hpp"

#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdint>

#include <fmt/core.h>

#include "apps/common/cli.hpp"
#include "apps/common/model_io.hpp"
#include "apps/common/report.hpp"
#include "optim/adam.hpp"

namespace tg::mnist {
namespace {

constexpr std::size_t kClasses = 10;
constexpr std::size_t kShownPredictions = 10;

RecurrentInit parse_init(const std::string& name) {
  if (name == "glorot") return RecurrentInit::GlorotOrthogonal;
  if (name == "torch") return RecurrentInit::Torch;
  throw UsageError("--init: unknown initialisation '" + name + "' (expected glorot or torch)");
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

std::size_t metadata_count(const std::map<std::string, std::string>& meta, const std::string& key,
                           const std::string& path, bool allow_zero) {
  const std::string text = app::metadata_value(meta, key, path);
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-' || (!allow_zero && v == 0))
    throw Error(path + ": checkpoint metadata '" + key + "' is '" + text + "', not a " +
                (allow_zero ? "non-negative" : "positive") + " integer");
  return std::size_t(v);
}

std::string join(const std::vector<int>& v, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < n; ++i) s += (i ? " " : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

// ---------------------------------------------------------------- options

Config parse_args(int argc, char** argv) {
  Config c;
  app::Cli cli("mnist_rnn",
               "Trains a recurrent network to classify MNIST digits, reading each image as a\n"
               "sequence of its 28 rows (docs/protocols.md section 3), and reports the test\n"
               "accuracy every --eval-every steps.");
  cli.option("--cell", &c.cell, "recurrent cell: rnn (Elman, tanh), lstm or gru");
  cli.option("--hidden", &c.hidden, "hidden units per layer");
  cli.option("--layers", &c.layers, "stacked recurrent layers");
  cli.option("--steps", &c.steps, "training steps (after --load: further steps; 0 = evaluate only)");
  cli.option("--batch", &c.batch, "images per training step");
  cli.option("--lr", &c.lr, "Adam learning rate (betas 0.9/0.999, eps 1e-8)");
  cli.option("--eval-every", &c.eval_every,
             "evaluate on the 10,000 test images every N steps (0: only at the end)");
  cli.option("--seed", &c.seed, "seed of the initial weights and of the batch order");
  cli.option("--threads", &c.threads, "BLAS threads");
  cli.option("--init", &c.init,
             "recurrent weights: glorot (Glorot-uniform input, orthogonal recurrent, zero "
             "bias) or torch (U(-1/sqrt(H), 1/sqrt(H)))");
  cli.option("--data", &c.data,
             "folder holding the four MNIST IDX files (default: the cache, "
             "$TAPEGRAD_DATA/mnist or ~/.cache/tapegrad/mnist, fetched on first use)");
  cli.option("--save", &c.save, "write a checkpoint (model, Adam state, metadata) here at every evaluation");
  cli.option("--load", &c.load,
             "start from this checkpoint; its cell, hidden, layers and step replace the flags");
  cli.option("--metrics", &c.metrics,
             "write a CSV: step, loss, test_loss, test_acc, elapsed_seconds (training time)");
  cli.epilog(
      "examples:\n"
      "  mnist_rnn                               # the protocol: rnn, 4000 steps\n"
      "  mnist_rnn --cell lstm --save lstm.safetensors --metrics lstm.csv\n"
      "  mnist_rnn --load lstm.safetensors --steps 0   # evaluate a checkpoint\n"
      "  mnist_rnn --load lstm.safetensors --steps 1000 # train 1000 more steps\n"
      "\n"
      "output: a line per evaluation on stdout, the first 10 test predictions, and\n"
      "a RESULT line for bench/torch/compare.py; a progress line on stderr when it\n"
      "is a terminal.\n"
      "exit codes: 0 success, 1 failure while running (data, checkpoint), 2 usage");
  cli.parse(argc, argv);
  validate(c);
  return c;
}

void validate(const Config& c) {
  try {
    parse_cell_type(c.cell);
  } catch (const Error&) {
    throw UsageError("--cell: unknown cell '" + c.cell + "' (expected rnn, lstm or gru)");
  }
  parse_init(c.init);
  if (c.hidden == 0) throw UsageError("--hidden must be at least 1");
  if (c.layers == 0) throw UsageError("--layers must be at least 1");
  if (c.batch == 0) throw UsageError("--batch must be at least 1");
  if (!(c.lr > 0)) throw UsageError("--lr must be positive");
  if (c.threads < 1) throw UsageError("--threads must be at least 1");
  if (c.steps == 0 && c.load.empty())
    throw UsageError("--steps 0 evaluates a checkpoint: give --load PATH");
}

// ---------------------------------------------------------------- model

Model::Model(Tape<float>& tape, CellType cell, std::size_t hidden, std::size_t layers,
             RecurrentInit init, Rng& rng)
    : rnn(tape,
          [&] {
            RecurrentOptions o;
            o.cell = cell;
            o.input_size = data::kMnistSide;
            o.hidden_size = hidden;
            o.num_layers = layers;
            o.init = init;
            o.return_sequences = false;  // the head reads only the last state
            return o;
          }(),
          rng),
      head(tape, hidden, kClasses, rng) {}

Var<float> Model::forward(const Var<float>& x) const { return head(rnn.forward(x).last()); }

void Model::collect(const std::string& prefix, std::vector<NamedParameter<float>>& out) const {
  rnn.collect(prefix + "rnn.", out);
  head.collect(prefix + "head.", out);
}

Evaluation evaluate(const Model& model, Tape<float>& tape, const data::MnistSplit& split,
                    std::size_t chunk) {
  Evaluation ev;
  ev.predictions.reserve(split.size());
  double loss_sum = 0;
  std::size_t correct = 0;
  auto no_grad = tape.no_grad();
  for (std::size_t begin = 0; begin < split.size(); begin += chunk) {
    data::MnistBatch b = data::mnist_range(split, begin, chunk);
    const std::size_t n = b.labels.size();
    {
      Var<float> logits = model.forward(tape.constant(std::move(b.x)));
      std::vector<std::int64_t> targets(b.labels.begin(), b.labels.end());
      loss_sum += double(cross_entropy(logits, targets).item()) * double(n);
      const float* z = logits.value().data();
      for (std::size_t i = 0; i < n; ++i) {
        const float* row = z + i * kClasses;
        int best = 0;
        for (std::size_t k = 1; k < kClasses; ++k)
          if (row[k] > row[best]) best = int(k);
        ev.predictions.push_back(best);
        correct += best == b.labels[i];
      }
    }
    tape.clear();
  }
  if (split.size()) {
    ev.loss = loss_sum / double(split.size());
    ev.accuracy = double(correct) / double(split.size());
  }
  return ev;
}

// ---------------------------------------------------------------- checkpoints

Config config_from_checkpoint(const std::string& path, Config base) {
  const auto meta = app::read_metadata(path);
  base.cell = app::metadata_value(meta, "cell", path);
  try {
    parse_cell_type(base.cell);
  } catch (const Error& e) {
    throw Error(path + ": checkpoint metadata 'cell': " + e.what());
  }
  base.hidden = metadata_count(meta, "hidden", path, false);
  base.layers = metadata_count(meta, "layers", path, false);
  // Older or hand-made checkpoints may lack the init: it only matters for
  // starting weights, which the checkpoint replaces anyway.
  auto it = meta.find("init");
  if (it != meta.end()) base.init = it->second;
  return base;
}

// ---------------------------------------------------------------- training

RunResult run(const Config& config, const data::Mnist& data, std::FILE* log) {
  validate(config);
  Config cfg = config;
  RunResult res;
  if (!cfg.load.empty()) {
    cfg = config_from_checkpoint(cfg.load, cfg);
    res.first_step = metadata_count(app::read_metadata(cfg.load), "step", cfg.load, true);
  }
  res.last_step = res.first_step + cfg.steps;
  if (data.train.size() == 0 || data.test.size() == 0)
    throw Error("mnist: the training or test split is empty");
  if (cfg.batch > data.train.size())
    throw UsageError("--batch " + std::to_string(cfg.batch) + " exceeds the " +
                     std::to_string(data.train.size()) + " training images");

  Tape<float> tape;
  Rng rng(cfg.seed);
  Model model(tape, parse_cell_type(cfg.cell), cfg.hidden, cfg.layers, parse_init(cfg.init), rng);
  Adam<float> opt(model.parameters(), float(cfg.lr), 0.9f, 0.999f, 1e-8f);
  if (!cfg.load.empty()) app::load_model(cfg.load, model, &opt);

  auto say = [&](const std::string& line) {
    if (!log) return;
    std::fputs(line.c_str(), log);
    std::fputc('\n', log);
    std::fflush(log);
  };
  say(fmt::format("model: {} 28->{} x{} layer(s), Linear {}->10, {} parameters, init {}{}", cfg.cell,
                  cfg.hidden, cfg.layers, cfg.hidden, model.parameter_count(), cfg.init,
                  cfg.load.empty() ? "" : fmt::format(" (from {}, step {})", cfg.load, res.first_step)));
  if (cfg.steps)
    say(fmt::format("training: Adam lr {:g}, batch {}, steps {}..{}, seed {}; {} train / {} test images",
                    cfg.lr, cfg.batch, res.first_step + 1, res.last_step, cfg.seed,
                    data.train.size(), data.test.size()));

  for (std::size_t i = 0; i < std::min(kShownPredictions, data.test.size()); ++i)
    res.first_labels.push_back(data.test.labels[i]);

  auto save = [&](std::size_t step) {
    if (cfg.save.empty()) return;
    app::save_model(cfg.save, model, &opt,
                    {{"program", "mnist_rnn"}, {"cell", cfg.cell},
                     {"hidden", std::to_string(cfg.hidden)}, {"layers", std::to_string(cfg.layers)},
                     {"init", cfg.init}, {"step", std::to_string(step)},
                     {"batch", std::to_string(cfg.batch)}, {"lr", fmt::format("{:g}", cfg.lr)},
                     {"seed", std::to_string(cfg.seed)}});
  };

  if (cfg.steps == 0) {
    res.test = evaluate(model, tape, data.test);
    say(fmt::format("step {:5d}  test loss {:.4f}  test acc {:.4f}", res.first_step, res.test.loss,
                    res.test.accuracy));
  } else {
    app::MetricsCsv metrics;
    if (!cfg.metrics.empty())
      metrics = app::MetricsCsv(cfg.metrics, {"step", "loss", "test_loss", "test_acc", "elapsed_seconds"});
    // The batch order of an uninterrupted run: a resumed run skips the
    // batches the checkpoint has already seen.
    data::EpochSampler sampler(data.train.size(), cfg.batch, cfg.seed);
    for (std::size_t s = 0; s < res.first_step; ++s) sampler.next();
    app::Progress progress(cfg.steps, "steps");
    std::vector<std::int64_t> targets(cfg.batch);
    using Clock = std::chrono::steady_clock;
    double wall = 0, cpu = 0;
    for (std::size_t step = res.first_step + 1; step <= res.last_step; ++step) {
      data::MnistBatch b = data::mnist_batch(data.train, sampler.next());
      targets.assign(b.labels.begin(), b.labels.end());

      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      {
        Var<float> loss = cross_entropy(model.forward(tape.constant(std::move(b.x))), targets);
        tape.backward(loss);
        opt.step();
        opt.zero_grad();
        res.last_minibatch_loss = loss.item();
      }
      tape.clear();
      cpu += cpu_seconds() - c0;
      wall += std::chrono::duration<double>(Clock::now() - t0).count();

      if (cfg.progress)
        progress.update(step - res.first_step, fmt::format("loss {:.4f}", res.last_minibatch_loss));
      const bool eval_now = step == res.last_step || (cfg.eval_every && step % cfg.eval_every == 0);
      if (!eval_now) continue;
      if (cfg.progress) progress.finish();
      res.test = evaluate(model, tape, data.test);
      const std::size_t done = step - res.first_step;
      say(fmt::format("step {:5d}  minibatch loss {:.4f}  test loss {:.4f}  test acc {:.4f}  "
                      "train {:.1f} s ({:.2f} ms/step)",
                      step, res.last_minibatch_loss, res.test.loss, res.test.accuracy, wall,
                      wall / double(done) * 1e3));
      metrics.row({double(step), res.last_minibatch_loss, res.test.loss, res.test.accuracy, wall});
      save(step);
    }
    res.train_seconds = wall;
    res.train_cpu_seconds = cpu;
  }
  res.config = cfg;
  say("first 10 test images: predicted " + join(res.test.predictions, kShownPredictions));
  say("                      label     " + join(res.first_labels, kShownPredictions));
  return res;
}

std::string result_line(const RunResult& r, double peak) {
  const Config& config = r.config;
  const std::size_t steps = r.last_step - r.first_step;
  return fmt::format(
      "RESULT name=mnist_{} impl=tapegrad steps={} train_seconds={:.6g} ms_per_step={:.6g} "
      "test_acc={:.6g} peak_mib={:.6g} train_cpu_seconds={:.6g} test_loss={:.6g} cell={} "
      "batch={} threads={} seed={}",
      config.cell, steps, r.train_seconds, steps ? r.train_seconds / double(steps) * 1e3 : 0.0,
      r.test.accuracy, peak, r.train_cpu_seconds, r.test.loss, config.cell, config.batch,
      config.threads, config.seed);
}

double peak_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

}  // namespace tg::mnist

// imdb_lstm's run: the flags, training through train::Trainer (on N ranks
// under mpirun), evaluation of a checkpoint (--eval-only), and --predict.
#include "apps/imdb_lstm/imdb_app.hpp"

#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/core.h>

#include "apps/common/schedule.hpp"
#include "apps/imdb_lstm/imdb_report.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/parallel/data_parallel.hpp>

namespace tg::imdb {
namespace {

std::string shorten(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

// Checks the --load checkpoint (checkpoint_vocab) and that the data give its
// vocabulary (else every id would mean another token).
void check_checkpoint(const app::Frame& frame, const data::Imdb& d) {
  const std::string& path = frame.flags().load;
  if (checkpoint_vocab(frame).tokens() != d.vocab.tokens())
    throw Error("the vocabulary built from the data (" + std::to_string(d.vocab.tokens().size()) +
                " tokens) differs from the one of the checkpoint " + path + " (" + vocab_path(path) +
                "): other data or another --vocab?");
}

// The splits a run trains on and scores: train (without --valid's
// reviews), valid (empty without --valid) and test.
struct Splits {
  const data::ImdbSplit& train;
  const data::ImdbSplit& valid;
  const data::ImdbSplit& test;
};

// Checks the data and the --load checkpoint before any model is built.
void check_run(const Settings& s, const app::Frame& frame, const data::Imdb& d, const Splits& sp) {
  if (d.train.size() == 0 || d.test.size() == 0)
    throw Error("imdb_lstm: the training or the test split is empty");
  if (s.batch > sp.train.size())
    throw app::UsageError(fmt::format("--batch {} exceeds the {} training reviews{}", s.batch, sp.train.size(),
                                      s.valid ? fmt::format(" left beside --valid {}", s.valid) : ""));
  if (!frame.flags().load.empty()) check_checkpoint(frame, d);
}

// accuracy() over every process of the run (collective): each classifies its
// contiguous share of the split and the counts are summed, so N processes
// take 1/N of the time and every one gets the whole split's accuracy.
double accuracy_over_ranks(Model& model, const data::ImdbSplit& split, std::size_t chunk) {
  if (split.size() == 0) return 0;
  const parallel::Range mine = parallel::share_of(split.size(), parallel::rank(), parallel::size());
  double correct = double(count_correct(model, split, mine.begin, mine.count, chunk));
  parallel::allreduce_sum(&correct, 1);
  return correct / double(split.size());
}

// The accuracies --eval asks for, timed into `seconds` (collective).
// With --valid, valid_acc too (test_acc is printed, never used to choose).
train::Metrics accuracies(Model& model, const Settings& s, const Splits& d, double* seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  train::Metrics m;
  if (s.eval == "both") m.emplace_back("train_acc", accuracy_over_ranks(model, d.train, s.eval_batch));
  if (s.eval != "none" && d.valid.size())
    m.emplace_back("valid_acc", accuracy_over_ranks(model, d.valid, s.eval_batch));
  if (s.eval != "none") m.emplace_back("test_acc", accuracy_over_ranks(model, d.test, s.eval_batch));
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

// --eval-only: the accuracies of the loaded checkpoint (its chosen weights
// with --valid: app::load_weights).
void evaluate_checkpoint(Model& model, const Settings& s, const app::Session& session, const Splits& d,
                         RunResult& res) {
  double seconds = 0;
  const train::Metrics m = accuracies(model, s, d, &seconds);
  res.eval_seconds = seconds;
  res.train_acc = metric_value(m, "train_acc");
  res.test_acc = metric_value(m, "test_acc");
  res.valid_acc = metric_value(m, "valid_acc");
  session.say(fmt::format("checkpoint {} at step {}:{}  [evaluation {:.0f} s]", session.flags().load,
                          res.first_step, metrics_text(m), seconds));
}

// The Trainer's options from the frame's.
train::Options trainer_options(const app::Frame& frame, const data::Imdb& d, std::size_t per_epoch) {
  train::Options options = frame.trainer_options(per_epoch);
  options.unit = "batches";
  // The checkpoint names its vocabulary by content; the file is written
  // with the first checkpoint (Evaluation::run).
  options.meta["vocab_sha256"] = data::sha256_hex(d.vocab.text());
  return options;
}

void print_training_plan(const app::Session& session, const Settings& s, std::size_t per_epoch) {
  const app::TrainingFlags& f = session.flags();
  const std::size_t first = session.info().first_step, end = session.trainer().total_steps();
  const std::string lr = app::describe_lr(s.lr, s.schedule, s.min_lr);
  session.say(fmt::format("training: Adam lr {}, batch {}{}, clip {:g}, steps {}..{} ({} per epoch), seed {}{}",
                          lr, s.batch, session.processes(), f.clip, first + 1, end, per_epoch, f.seed,
                          f.load.empty() ? "" : fmt::format(" (from {})", f.load)));
}

// The evaluation of a training run (Trainer::fit's).
struct Evaluation {
  Model& model;
  const Settings& settings;
  const data::Imdb& data;
  const Splits& splits;
  std::string save;  // --save on rank 0, else empty: where the vocabulary goes
  RunResult& result;
  double seconds = 0;  // the last evaluation's
  bool vocab_saved = false;

  // The accuracies --eval asks for (collective).
  train::Metrics run() {
    const train::Metrics m = accuracies(model, settings, splits, &seconds);
    if (!m.empty()) result.eval_seconds = seconds;
    // The Trainer saves the checkpoint right after this returns: the
    // vocabulary goes first, so a checkpoint on disk has its vocabulary.
    if (!save.empty() && !vocab_saved) data.vocab.save(vocab_path(save));
    vocab_saved = true;
    return m;
  }
};

// Trains to the end the flags set: the protocol's line per evaluation, the
// last evaluation's accuracies in `res`.
void train_model(Model& model, const Settings& s, const data::Imdb& d, const Splits& sp,
                 data::ImdbLoader& loader, app::Session& session, RunResult& res) {
  print_training_plan(session, s, loader.batches_per_epoch());
  train::Trainer<float>& trainer = session.trainer();
  parallel::DataParallel<float>& ddp = session.ddp();
  Evaluation evaluation{model, s, d, sp, ddp.is_root() ? session.flags().save : "", res};
  const std::size_t per_epoch = loader.batches_per_epoch();
  trainer.options().log_line = [&](const train::Row& row, const train::Row& previous) {
    return evaluation_line(row, previous, per_epoch, evaluation.seconds);
  };
  trainer.options().progress_every = 50;  // "  epoch 1 batch 50/391  loss 0.6912" in a log file
  session.fit(
      [&](const train::Batch& at) {
        const data::ImdbBatch b = session.batch(loader, at);
        return ddp.loss(bce_with_logits(model.logits(b, /*training=*/true, &trainer.rng()), b.labels));
      },
      [&] { return evaluation.run(); });
  if (!session.info().rows.empty()) {
    res.train_acc = metric_value(session.info().rows.back().values, "train_acc");
    res.test_acc = metric_value(session.info().rows.back().values, "test_acc");
  }
  if (!selects_best(s)) return;
  res.rows = session.info().rows;
  take_best(trainer, res);  // the Trainer has put the best weights back
  if (res.test_acc < 0) {   // the best was before a resume: score its weights
    double seconds = 0;
    const train::Metrics m = accuracies(model, s, sp, &seconds);
    res.train_acc = metric_value(m, "train_acc");
    res.test_acc = metric_value(m, "test_acc");
  }
  session.say(best_line(res));
}

// --predict's texts: each argument, or for '-' each non-empty line of stdin.
std::vector<std::string> texts_to_predict(const std::vector<std::string>& args) {
  std::vector<std::string> texts;
  for (const std::string& t : args) {
    if (t != "-") {
      texts.push_back(t);
      continue;
    }
    for (std::string line; std::getline(std::cin, line);)
      if (!line.empty()) texts.push_back(line);
  }
  return texts;
}

}  // namespace

RunResult run(const Settings& s, const app::Frame& frame, const data::Imdb& d, std::FILE* log) {
  const app::TrainingFlags& f = frame.flags();
  const TrainValid carved = s.valid ? carve_valid(d.train, s.valid) : TrainValid{};
  const Splits sp{s.valid ? carved.train : d.train, carved.valid, d.test};
  check_run(s, frame, d, sp);
  if (f.eval_only && s.eval == "none") throw app::UsageError("--eval-only with --eval none evaluates nothing");
  Rng rng(f.seed);
  Model model(s, d.vocab.size(), rng);
  Adam<float> adam(model.parameters(), AdamOptions(s.lr));
  data::ImdbLoader loader(sp.train, data::LoaderOptions(s.batch, f.seed), data::imdb_batch);
  app::Session session(frame, model.tape, model, adam, trainer_options(frame, d, loader.batches_per_epoch()), log);
  if (session.log()) describe_model(model, s, d.vocab.size(), session.log());
  if (s.valid)
    session.say(fmt::format("validation: {} of the {} training reviews (spread evenly), {} left to train on{}",
                            sp.valid.size(), d.train.size(), sp.train.size(),
                            selects_best(s) ? "; the epoch with the best valid accuracy is kept" : ""));
  if (selects_best(s)) session.trainer().early_stopping(best_on_valid());
  const app::RunSchedule schedule(session, adam, s.schedule, s.min_lr);  // before start(): it resumes
  session.start();
  RunResult res;
  static_cast<app::RunInfo&>(res) = session.info();  // the first step, batches per epoch
  if (session.eval_only())  // (app::load_weights took the run's chosen weights)
    evaluate_checkpoint(model, s, session, sp, res);
  else
    train_model(model, s, d, sp, loader, session, res);
  static_cast<app::RunInfo&>(res) = session.info();
  if (frame.reporting()) add_report(frame.report(), model, s, f, d, res);
  session.export_model();
  return res;
}

void predict_only(const Settings& s, const app::Frame& frame, std::FILE* out) {
  const std::string& path = frame.flags().load;
  for (const char* other : {"--eval-only", "--save", "--metrics"})  // (not CLI11's excludes: it
    if (frame.given(other))                                          // would mark shared flags' help)
      throw app::UsageError(std::string("--predict classifies only: it takes no ") + other);
  const data::Vocab vocab = checkpoint_vocab(frame);
  Rng rng(frame.flags().seed);
  Model model(s, vocab.size(), rng);
  app::load_weights(path, model);  // with --valid, the chosen epoch's
  const std::vector<std::string> texts = texts_to_predict(s.predict);
  const std::vector<double> p = predict(model, vocab, texts, s.eval_batch);
  for (std::size_t i = 0; i < texts.size(); ++i)
    fmt::print(out, "{:.4f}  {}  {}\n", p[i], p[i] > 0.5 ? "positive" : "negative", shorten(texts[i], 70));
  frame.export_model(model, out);
}

}  // namespace tg::imdb

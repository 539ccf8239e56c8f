// The run of slot_filling: train and score (fit() through train::Trainer,
// keeping the best-on-valid weights), or only load a checkpoint to score or
// tag; its log lines.
#include <fmt/core.h>

#include <istream>

#include "apps/common/schedule.hpp"
#include "apps/slot_filling/slot_app.hpp"
#include "apps/slot_filling/slot_batches.hpp"
#include "apps/slot_filling/slot_report.hpp"
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/parallel/data_parallel.hpp>

namespace tg::slotapp {
namespace {

using Json = nlohmann::json;

void tag_one(SlotModel& model, const std::string& sentence, std::FILE* log, RunResult& res) {
  const auto words = slots::tokenize(sentence);
  if (words.empty()) return;
  res.tagged.push_back("> " + sentence + "\n" + tagging_report(words, tag_words(model, words)));
  if (log) {
    std::fputs(res.tagged.back().c_str(), log);
    std::fflush(log);
  }
}

// --tag's sentences ("-": each line of `in`, tagged as it comes).
void tag_requested(const Settings& s, std::istream& in, std::FILE* log, RunResult& res) {
  for (const std::string& text : s.tag) {
    if (text != "-") {
      tag_one(res.model, text, log, res);
      continue;
    }
    for (std::string line; std::getline(in, line);) tag_one(res.model, line, log, res);
  }
}

void print_setup(const Settings& s, const app::Frame& frame, const slots::SlotData& data, const SlotModel& m,
                 std::size_t per_epoch, std::size_t first, std::size_t end, std::FILE* log) {
  const app::TrainingFlags& f = frame.flags();
  const ModelConfig& c = m.tagger->config;
  say(log, fmt::format("data: {}: train {}, valid {}, test {} sentences; vocabulary {} words, {} tags",
                       f.data.empty() ? "built-in ticket-booking corpus" : f.data, data.train.size(),
                       data.valid.size(), data.test.size(), m.vocab.size(), m.tags.size()));
  say(log, fmt::format("model: embed {} -> {} {} x{} layer(s), hidden {} -> linear {} tags{}; {} parameters",
                       c.embed, c.bidirectional ? "bidirectional" : "unidirectional", c.cell, c.layers,
                       c.hidden, c.tag_count, c.crf ? " -> CRF (BIO-constrained, Viterbi)" : "",
                       m.tagger->parameter_count()));
  if (log) fmt::print(log, "{}", m.tagger->summary());
  say(log, fmt::format("train: steps {}..{} ({} per epoch), batch {} ({}), Adam lr {}, dropout {:g}, "
                       "word dropout {:g}, clip {:g}, seed {}, threads {}{}",
                       first + 1, end, per_epoch, s.batch, s.random_batches ? "random" : "length buckets",
                       app::describe_lr(s.lr, s.schedule, s.min_lr), c.dropout, s.word_dropout, f.clip,
                       f.seed, f.threads,
                       f.load.empty() ? "" : fmt::format(" (from {}, step {})", f.load, first)));
}

// The loss of a training step (the Trainer's loss function): the step's
// batch of the loader, its words dropped to <unk> by a draw of the step alone,
// this rank's share of it under mpirun, the loss of its real tokens
// (cross-entropy, or the CRF's with --crf).
struct TaggerLoss {
  Tagger& tagger;
  slots::SentenceLoader& loader;
  double word_dropout;
  std::uint64_t seed;
  parallel::DataParallel<float>& ddp;
  Rng& dropout_rng;  // the Trainer's, resumed with it

  Var<float> operator()(const train::Batch& b) const {
    tagger.train();
    const std::vector<std::size_t> global = loader.indices(b.epoch, b.index);
    slots::Batch batch = loader.collate(global);
    slots::Rng word_rng(seed ^ (0x5851F42D4C957F2DULL * b.step));  // word dropout of this step
    if (word_dropout > 0) slots::word_dropout(batch, word_dropout, word_rng);
    if (ddp.size() > 1) batch = token_share(ddp, loader.dataset(), global, batch);
    return ddp.loss(tagger.loss(tagger.forward(batch.words, batch.lengths, dropout_rng), batch));
  }
};

// Batches of similar lengths (pools of 50 batches sorted by length: a batch
// of 16 on ATIS runs 1.05x its real time steps, random ones 1.8x), or with
// --random-batches an epoch-wise shuffle.
data::LoaderOptions batch_order(const Settings& s, std::uint64_t seed) {
  data::LoaderOptions o(s.batch, seed);
  o.bucket_pool = s.random_batches ? 0 : 50;
  return o;
}

// Trains res.model on data.train to the end the flags set, scoring valid at
// each evaluation; early stopping on the valid F1 keeps the best weights
// (and stops after --patience evaluations without a better one) and leaves
// them in res.model.
void fit(const Settings& s, const app::Frame& frame, const slots::SlotData& data, std::FILE* log,
         RunResult& res) {
  const app::TrainingFlags& f = frame.flags();
  Tagger& tagger = *res.model.tagger;
  const slots::EncodedSplit train_set = slots::encode(data.train, res.model.vocab, res.model.tags);
  slots::SentenceLoader loader(train_set, batch_order(s, f.seed), slots::make_batch, train_set.lengths());
  Adam<float> adam(tagger.parameters(), float(s.lr));
  app::Session session(frame, *res.model.tape, tagger, adam, frame.trainer_options(loader.batches_per_epoch()),
                       log);
  train::Trainer<float>& trainer = session.trainer();
  trainer.early_stopping({"valid_f1", train::EarlyStopping::Mode::Max, s.patience});
  Json& meta = trainer.options().meta[kMetaKey];
  meta = {{"data", f.data.empty() ? "built-in" : "folder"}};
  const app::RunSchedule schedule(session, adam, s.schedule, s.min_lr);  // before start(): it resumes
  session.start();
  if (!f.save.empty() && session.is_root()) write_vocabulary(res.model, f.save, meta);
  print_setup(s, frame, data, res.model, loader.batches_per_epoch(), session.info().first_step,
              trainer.total_steps(), log);
  // Every rank keeps the best weights at the same evaluations, from the same
  // weights: they need no exchange.
  session.fit(TaggerLoss{tagger, loader, s.word_dropout, f.seed, session.ddp(), trainer.rng()},
              [&] { return train::Metrics{{"valid_f1", valid_f1(res.model, data.valid)}}; });
  tagger.eval();
  static_cast<app::RunInfo&>(res) = session.info();
  const train::Best& best = trainer.best();
  res.best_valid_f1 = best.value;
  res.best_epoch = best.epoch;
  res.best_step = best.step;
  res.stopped_early = best.stopped;
}

void train_and_score(const Settings& s, const app::Frame& frame, const slots::SlotData& data, std::FILE* log,
                     std::FILE* warn, RunResult& res) {
  const app::TrainingFlags& f = frame.flags();
  if (data.valid.empty()) throw Error("the valid split is empty: the best-on-valid selection needs it");
  if (data.test.empty()) throw Error("the test split is empty: nothing to score");
  res.model = make_model(data, s.model(0, 0), f.seed);
  if (!f.load.empty()) check_same_vocabulary(res.model, f.load, frame.loaded_meta());
  const std::string w = slots::encode(data.valid, res.model.vocab, res.model.tags).warning("valid");
  if (!w.empty() && warn) fmt::print(warn, "{}\n", w);
  fit(s, frame, data, log, res);
  const std::size_t steps = res.last_step - res.first_step;
  say(log, fmt::format(
               "best valid F1 {:.2f} at epoch {} (step {}): its weights are kept{}; training {:.2f} s "
               "(cpu {:.2f} s)",
               100 * res.best_valid_f1, res.best_epoch, res.best_step,
               res.stopped_early ? fmt::format(" (no better F1 in {} evaluations: stopped)", s.patience) : "",
               res.train_seconds, res.train_cpu_seconds));
  if (steps)
    say(log, fmt::format("training time: {:.2f} ms per step", 1e3 * res.train_seconds / double(steps)));
  if (!parallel::is_root()) return;  // rank 0 alone scores the test split
  res.test = score(res.model, data.test, "test", warn);
  res.scored = true;
  print_scores(log, "test", res.test);
}

// --load with --eval-only or --tag: the checkpoint's best weights, no training.
void load_only(const Settings& s, const app::Frame& frame, const slots::SlotData& data, std::FILE* log,
               std::FILE* warn, RunResult& res) {
  const app::TrainingFlags& f = frame.flags();
  res.model = load(f.load, s);
  const Json& meta = frame.loaded_meta();
  res.first_step = res.last_step = app::saved_step(frame);
  const train::Best sel = train::saved_best(meta, f.load);
  res.best_valid_f1 = sel.value;
  res.best_epoch = sel.epoch;
  res.best_step = sel.step;
  const ModelConfig& c = res.model.tagger->config;
  say(log, fmt::format("loaded {} (step {}; best valid F1 {:.2f} at epoch {}): {} {}, {} layer(s), embed {}, "
                       "hidden {}; {} words, {} tags",
                       f.load, res.first_step, 100 * sel.value, sel.epoch,
                       c.bidirectional ? "bidirectional" : "unidirectional", c.cell, c.layers, c.embed,
                       c.hidden, c.vocab_size, c.tag_count));
  if (!f.eval_only || !parallel::is_root()) return;  // rank 0 alone scores
  res.test = score(res.model, data.test, "test", warn);
  res.scored = true;
  print_scores(log, "test", res.test);
}

}  // namespace

RunResult run(const Settings& s, const app::Frame& frame, const slots::SlotData& data, std::istream& in,
              std::FILE* log, std::FILE* warn) {
  RunResult res;
  const app::TrainingFlags& f = frame.flags();
  if (!parallel::is_root()) log = warn = nullptr;  // under mpirun rank 0 alone speaks
  const bool only_loaded = !f.load.empty() && (f.eval_only || !s.tag.empty());
  if (only_loaded)
    load_only(s, frame, data, log, warn, res);
  else
    train_and_score(s, frame, data, log, warn, res);
  frame.export_model(*res.model.tagger, log);  // the best weights, as scored and tagged with
  if (!s.tag.empty()) {
    tag_requested(s, in, log, res);
  } else if (f.data.empty() && !f.eval_only) {
    say(log, "\nthe lecture's sentences (never seen in training):");
    for (const char* sentence : kLectureSentences) tag_one(res.model, sentence, log, res);
  }
  if (frame.reporting()) add_report(frame.report(), s, f, data, res);
  return res;
}

}  // namespace tg::slotapp

// The run of slot_filling: train and score (fit() through train::Trainer,
// keeping the best-on-valid weights), or only load a checkpoint to score or
// tag; its log lines.
#include <fmt/core.h>

#include <istream>

#include "apps/slot_filling/best_weights.hpp"
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
  say(log, fmt::format("model: embed {} -> {} {} x{} layer(s), hidden {} -> linear {} tags; {} parameters",
                       c.embed, c.bidirectional ? "bidirectional" : "unidirectional", c.cell, c.layers,
                       c.hidden, c.tag_count, m.tagger->parameter_count()));
  if (log) fmt::print(log, "{}", m.tagger->summary());
  say(log, fmt::format("train: steps {}..{} ({} per epoch), batch {} ({}), Adam lr {:g}, dropout {:g}, "
                       "word dropout {:g}, clip {:g}, seed {}, threads {}{}",
                       first + 1, end, per_epoch, s.batch, s.random_batches ? "random" : "length buckets",
                       s.lr, c.dropout, s.word_dropout, f.clip, f.seed, f.threads,
                       f.load.empty() ? "" : fmt::format(" (from {}, step {})", f.load, first)));
}

// The loss of a training step (the Trainer's loss function): the step's
// batch of the plan, its words dropped to <unk> by a draw of the step alone,
// this rank's share of it under mpirun, the cross-entropy of its real tokens.
struct TaggerLoss {
  Tagger& tagger;
  BatchPlan& plan;
  const slots::EncodedSplit& train_set;
  double word_dropout;
  std::uint64_t seed;
  parallel::DataParallel<float>& ddp;
  Rng& dropout_rng;  // the Trainer's, resumed with it

  Var<float> operator()(const train::Batch& b) const {
    tagger.train();
    const std::vector<std::size_t>& global = plan.at(b.epoch, b.index);
    slots::Batch batch = slots::make_batch(train_set, global);
    slots::Rng word_rng(seed ^ (0x5851F42D4C957F2DULL * b.step));  // word dropout of this step
    if (word_dropout > 0) slots::word_dropout(batch, word_dropout, word_rng);
    if (ddp.size() > 1) batch = token_share(ddp, train_set, global, batch);
    const std::vector<std::int64_t> targets(batch.tags.begin(), batch.tags.end());
    const std::vector<float> weights(batch.mask.begin(), batch.mask.end());
    return ddp.loss(cross_entropy(tagger.forward(batch.words, batch.lengths, dropout_rng), targets, weights));
  }
};

// The evaluation of a step (the Trainer's): the valid F1; a better one than
// the selection's keeps the weights, and the selection goes into the
// checkpoint's metadata either way.
struct KeepBestOnValid {
  SlotModel& model;
  const std::vector<slots::Utterance>& valid;
  BestWeights& best;
  Selection& selection;
  std::size_t batches_per_epoch;
  train::Trainer<float>& trainer;

  train::Metrics operator()() const {
    const double f1 = valid_f1(model, valid);
    const std::size_t step = trainer.step();
    if (f1 > selection.f1) {
      selection = {f1, (step - 1) / batches_per_epoch + 1, step, 0};
      best.keep(*model.tagger);
    } else {
      ++selection.since;
    }
    trainer.options().meta[kMetaKey]["best"] = selection.json();
    return {{"valid_f1", f1}};
  }
};

// trainer.fit until its end or until `patience` evaluations (0: never) have
// passed without a better valid F1; a run resumed out of patience trains
// nothing. True when patience ran out.
bool fit_with_patience(train::Trainer<float>& trainer, const TaggerLoss& loss, const KeepBestOnValid& evaluation,
                       std::size_t patience) {
  const Selection& sel = evaluation.selection;
  trainer.on_evaluation = [&](const train::Row&) {
    if (patience > 0 && sel.since >= patience) throw StopEarly{};
  };
  bool stopped = false;
  try {
    if (patience == 0 || sel.since < patience) trainer.fit(loss, evaluation);
  } catch (const StopEarly&) {
    stopped = true;
  }
  return stopped || (patience > 0 && sel.since >= patience);
}

// What a finished fit leaves in the result and the report.
void collect_results(train::Trainer<float>& trainer, const Selection& sel, const app::Frame& frame,
                     RunResult& res) {
  res.rows = trainer.history();
  frame.report().training(trainer);
  res.last_step = trainer.step();
  res.train_seconds = trainer.train_seconds();
  res.train_cpu_seconds = trainer.train_cpu_seconds();
  res.best_valid_f1 = sel.f1;
  res.best_epoch = sel.epoch;
  res.best_step = sel.step;
}

// Trains res.model on data.train to the end the flags set, scoring valid at
// each evaluation and keeping the best weights; leaves them in res.model.
void fit(const Settings& s, const app::Frame& frame, const slots::SlotData& data, std::FILE* log,
         RunResult& res) {
  const app::TrainingFlags& f = frame.flags();
  Tagger& tagger = *res.model.tagger;
  const slots::EncodedSplit train_set = slots::encode(data.train, res.model.vocab, res.model.tags);
  BatchPlan plan(train_set, s.batch, !s.random_batches, f.seed);
  Adam<float> adam(tagger.parameters(), float(s.lr));
  BestWeights best(tagger);
  train::Options options = frame.trainer_options(plan.batches_per_epoch());
  options.log = log;
  train::Trainer<float> trainer(*res.model.tape, best.with(tagger), adam, options, f.seed);
  Json& meta = trainer.options().meta[kMetaKey];
  meta = {{"data", f.data.empty() ? "built-in" : "folder"}};
  Selection sel;
  if (!f.load.empty()) sel = Selection::from(trainer.resume(f.load), f.load);
  // Under mpirun -np N each rank trains on its share of every batch's
  // tokens; rank 0 alone logs and saves; the valid split's scoring is shared
  // (docs/distributed.md). The best weights need no exchange: every rank
  // keeps them at the same evaluations, from the same weights.
  parallel::DataParallel<float> ddp(trainer, tagger.named_parameters(), adam);
  if (!f.save.empty() && ddp.is_root()) write_vocabulary(res.model, f.save, meta);
  meta["best"] = sel.json();
  res.first_step = trainer.step();
  print_setup(s, frame, data, res.model, plan.batches_per_epoch(), res.first_step, trainer.total_steps(),
              log);
  const TaggerLoss loss{tagger, plan, train_set, s.word_dropout, f.seed, ddp, trainer.rng()};
  const KeepBestOnValid evaluation{res.model, data.valid, best, sel, plan.batches_per_epoch(), trainer};
  res.stopped_early = fit_with_patience(trainer, loss, evaluation, s.patience);
  if (ddp.size() > 1) say(log, ddp.summary());
  best.restore(tagger);
  tagger.eval();
  collect_results(trainer, sel, frame, res);
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
  res.first_step = res.last_step = meta.value(Json::json_pointer("/trainer/step"), std::size_t{0});
  const Selection sel = Selection::from(meta, f.load);
  res.best_valid_f1 = sel.f1;
  res.best_epoch = sel.epoch;
  res.best_step = sel.step;
  const ModelConfig& c = res.model.tagger->config;
  say(log, fmt::format("loaded {} (step {}; best valid F1 {:.2f} at epoch {}): {} {}, {} layer(s), embed {}, "
                       "hidden {}; {} words, {} tags",
                       f.load, res.first_step, 100 * sel.f1, sel.epoch,
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

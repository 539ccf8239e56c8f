// The run of slot_filling: its flags, the defaults that depend on the data,
// training through train::Trainer with best-on-valid selection, scoring and
// tagging. The model lives in slot_app.cpp.
#include <fmt/core.h>

#include <istream>
#include <sstream>
#include <utility>

#include "apps/common/explain.hpp"
#include "apps/slot_filling/slot_app.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/parallel/data_parallel.hpp>

namespace tg::slotapp {
namespace {

using Json = nlohmann::json;

// The defaults that depend on the data: with --data (tuned on ATIS), and on
// the small, regular built-in corpus.
struct DataDefaults {
  std::size_t embed, hidden, epochs;
  double lr, dropout;
};
constexpr DataDefaults kWithData{100, 160, 30, 2e-3, 0.5}, kBuiltIn{32, 64, 6, 5e-3, 0.2};

constexpr const char* kMetaKey = "slot_filling";  // this app's part of the checkpoint metadata

// "--bidirectional": true or false, spelled as CLI11 reads booleans; stored
// as "true"/"false" so a checkpoint compares equal however it was spelled.
CLI::Validator boolean_text() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        const std::string v = slots::lowercase(s);
        if (v == "true" || v == "1" || v == "yes" || v == "on")
          s = "true";
        else if (v == "false" || v == "0" || v == "no" || v == "off")
          s = "false";
        else
          return "'" + s + "' is not true or false";
        return "";
      },
      "true|false");
}

template <class V>
void add_per_data(CLI::App& cli, const char* name, V& value, const std::string& help, V with_data, V built_in,
                  const CLI::Validator& check) {
  cli.add_option(
         name, value,
         fmt::format("{} (default {} with --data, {} on the built-in corpus)", help, with_data, built_in))
      ->check(check)
      ->default_str("");
}

// A per-data option neither given nor restored from --load takes the
// default of the data, recorded as the option's default so that the
// checkpoint's settings hold it.
template <class V>
void resolve(app::Frame& frame, const char* name, V& value, V with_data, V built_in, bool with) {
  CLI::Option* opt = frame.cli().get_option(name);
  if (opt->count() > 0) return;
  value = with ? with_data : built_in;
  opt->default_str(fmt::format("{}", value));
}

// The best-on-valid selection so far: saved in the checkpoint's metadata,
// its weights as model.best.* tensors.
struct Selection {
  double f1 = -1;
  std::size_t epoch = 0, step = 0, since = 0;  // since: evaluations without a better F1

  Json json() const {
    return {{"valid_f1", f1}, {"epoch", epoch}, {"step", step}, {"evaluations_since", since}};
  }
  static Selection from(const Json& meta, const std::string& path) {
    const Json& b = ckpt::at(meta, std::string("/") + kMetaKey + "/best", path);
    auto count = [&](const char* key) {
      if (!b.contains(key) || !b[key].is_number_unsigned())
        throw Error(path + ": checkpoint metadata '" + kMetaKey + "/best/" + key + "' is not a count");
      return b[key].get<std::size_t>();
    };
    if (!b.contains("valid_f1") || !b["valid_f1"].is_number())
      throw Error(path + ": checkpoint metadata '" + kMetaKey + "/best/valid_f1' is not a number");
    return {b["valid_f1"].get<double>(), count("epoch"), count("step"), count("evaluations_since")};
  }
};

// Thrown by the evaluation hook when --patience runs out (after the
// Trainer wrote that evaluation's checkpoint).
struct StopEarly {};

// The batches of any epoch, from the seed and the epoch alone (a resumed
// run gets those of the uninterrupted one); the current epoch's are cached.
class BatchPlan {
 public:
  BatchPlan(const slots::EncodedSplit& train, std::size_t batch, bool buckets, std::uint64_t seed)
      : batch_(batch), buckets_(buckets), seed_(seed) {
    for (const auto& w : train.words) lengths_.push_back(w.size());
    at(0, 0);
  }
  const std::vector<std::size_t>& at(std::size_t epoch, std::size_t index) {
    if (epoch != epoch_ || batches_.empty()) {
      slots::Rng rng(seed_ * 0x9E3779B97F4A7C15ULL + 17 + epoch * 0xD1B54A32D192ED03ULL);
      batches_ = buckets_ ? length_buckets(lengths_, batch_, rng)
                          : slots::batch_indices(lengths_.size(), batch_, &rng);
      epoch_ = epoch;
    }
    return batches_.at(index);
  }
  std::size_t batches_per_epoch() const { return batches_.size(); }

 private:
  std::vector<std::size_t> lengths_;
  std::size_t batch_;
  bool buckets_;
  std::uint64_t seed_;
  std::size_t epoch_ = 0;
  std::vector<std::vector<std::size_t>> batches_;
};

void say(std::FILE* log, const std::string& line) {
  if (!log) return;
  fmt::print(log, "{}\n", line);
  std::fflush(log);
}

void print_scores(std::FILE* log, const std::string& what, const slots::ChunkScorer& s) {
  const auto& t = s.total();
  say(log, fmt::format("{}: precision {:.2f}  recall {:.2f}  F1 {:.2f}  token accuracy {:.2f}", what,
                       100 * t.precision(), 100 * t.recall(), 100 * t.f1(), 100 * t.accuracy()));
  say(log, "  (conlleval) " + s.summary());
}

// Scores a split that must not be empty (an empty one would score 0).
slots::ChunkScorer score(SlotModel& model, const std::vector<slots::Utterance>& split,
                         const std::string& name, std::FILE* warn) {
  if (split.empty()) throw Error("the " + name + " split is empty: nothing to score");
  const std::string w = slots::encode(split, model.vocab, model.tags).warning(name);
  if (!w.empty() && warn) fmt::print(warn, "{}\n", w);
  return evaluate(model, split);
}

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

// Resuming needs the data the checkpoint was trained on: the same
// vocabulary and tag set (also checked against their sha256).
void check_same_vocabulary(const SlotModel& m, const std::string& path, const Json& meta) {
  const slots::Vocab vocab = load_vocab(path, meta);
  const slots::TagSet tags = load_tags(path, meta);
  bool same = vocab.size() == m.vocab.size() && tags.size() == m.tags.size();
  for (std::size_t i = 0; same && i < vocab.size(); ++i)
    same = vocab.word(std::int64_t(i)) == m.vocab.word(std::int64_t(i));
  for (std::size_t i = 0; same && i < tags.size(); ++i)
    same = tags.tag(std::int64_t(i)) == m.tags.tag(std::int64_t(i));
  if (!same)
    throw Error("the training data give another vocabulary or tag set than " + vocab_path(path) + " and " +
                tags_path(path) + ": --load needs the data it was trained on (--data)");
}

// --save PATH: PATH.vocab and PATH.tags beside it, their sha256 in `meta`.
void write_vocabulary(const SlotModel& m, const std::string& path, Json& meta) {
  m.vocab.save(vocab_path(path));
  m.tags.save(tags_path(path));
  meta["vocab_sha256"] = data::sha256_file(vocab_path(path));
  meta["tags_sha256"] = data::sha256_file(tags_path(path));
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

// This rank's share of a training batch `whole` (the sentences `global`,
// word dropout already drawn on the whole batch, so that N processes train
// on the words one process would): its contiguous sentences, padded to their
// own longest. The loss is a mean over tokens, so the share's weight is its
// tokens over the batch's.
slots::Batch token_share(parallel::DataParallel<float>& ddp, const slots::EncodedSplit& train_set,
                         const std::vector<std::size_t>& global, const slots::Batch& whole) {
  const parallel::Range r = parallel::share_of(global.size(), ddp.rank(), ddp.size());
  slots::Batch mine = slots::make_batch(train_set, ddp.shard(global));
  std::size_t tokens = 0, all = 0;
  for (std::size_t c = 0; c < global.size(); ++c) {
    all += whole.lengths[c];
    if (c >= r.begin && c < r.begin + r.count) tokens += whole.lengths[c];
  }
  const std::size_t first = r.count ? r.begin : 0;  // an empty share holds sentence 0, weight 0
  for (std::size_t c = 0; c < mine.lengths.size(); ++c)
    for (std::size_t t = 0; t < mine.lengths[c]; ++t) mine.words(t, c) = whole.words(t, first + c);
  ddp.set_share(tokens, all);
  return mine;
}

// The valid split's F1 over every process of the run (collective): each
// scores its contiguous share of the sentences and the chunk and token counts
// are summed, so every rank gets the whole split's F1.
double valid_f1(SlotModel& model, const std::vector<slots::Utterance>& valid) {
  if (parallel::size() == 1) return evaluate(model, valid).total().f1();
  const parallel::Range r = parallel::share_of(valid.size(), parallel::rank(), parallel::size());
  const std::vector<slots::Utterance> mine(valid.begin() + std::ptrdiff_t(r.begin),
                                           valid.begin() + std::ptrdiff_t(r.begin + r.count));
  const slots::ChunkCounts c = evaluate(model, mine).total();
  double n[] = {double(c.gold), double(c.predicted), double(c.correct), double(c.tokens),
                double(c.correct_tokens)};
  parallel::allreduce_sum(n, 5);
  slots::ChunkCounts sum;
  sum.gold = std::size_t(n[0]);
  sum.predicted = std::size_t(n[1]);
  sum.correct = std::size_t(n[2]);
  sum.tokens = std::size_t(n[3]);
  sum.correct_tokens = std::size_t(n[4]);
  return sum.f1();
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

  std::vector<std::int64_t> targets;
  std::vector<float> weights;
  auto loss = [&](const train::Batch& b) {
    tagger.train();
    const std::vector<std::size_t>& global = plan.at(b.epoch, b.index);
    slots::Batch batch = slots::make_batch(train_set, global);
    slots::Rng word_rng(f.seed ^ (0x5851F42D4C957F2DULL * b.step));  // word dropout of this step
    if (s.word_dropout > 0) slots::word_dropout(batch, s.word_dropout, word_rng);
    if (ddp.size() > 1) batch = token_share(ddp, train_set, global, batch);
    targets.assign(batch.tags.begin(), batch.tags.end());
    weights.assign(batch.mask.begin(), batch.mask.end());
    return ddp.loss(cross_entropy(tagger.forward(batch.words, batch.lengths, trainer.rng()), targets, weights));
  };
  auto evaluation = [&]() -> train::Metrics {
    const double f1 = valid_f1(res.model, data.valid);
    const std::size_t step = trainer.step();
    if (f1 > sel.f1) {
      sel = {f1, (step - 1) / plan.batches_per_epoch() + 1, step, 0};
      best.keep(tagger);
    } else {
      ++sel.since;
    }
    trainer.options().meta[kMetaKey]["best"] = sel.json();
    return {{"valid_f1", f1}};
  };
  trainer.on_evaluation = [&](const train::Row&) {
    if (s.patience > 0 && sel.since >= s.patience) throw StopEarly{};
  };
  try {
    if (s.patience == 0 || sel.since < s.patience) trainer.fit(loss, evaluation);
  } catch (const StopEarly&) {
    res.stopped_early = true;
  }
  res.stopped_early = res.stopped_early || (s.patience > 0 && sel.since >= s.patience);
  if (ddp.size() > 1) say(log, ddp.summary());
  best.restore(tagger);
  tagger.eval();
  res.rows = trainer.history();
  frame.report().training(trainer);
  res.last_step = trainer.step();
  res.train_seconds = trainer.train_seconds();
  res.train_cpu_seconds = trainer.train_cpu_seconds();
  res.best_valid_f1 = sel.f1;
  res.best_epoch = sel.epoch;
  res.best_step = sel.step;
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

constexpr const char* kLectureSentences[] = {"I would like to arrive Taipei on November 2nd",
                                             "leave Taipei on November 2nd"};

// The report's own sections (--report): what the run is, the lecture's two
// sentences tagged, precision / recall / F1 of the most frequent slot types.
void add_report(train::Report& r, const Settings& s, const app::TrainingFlags& f, const slots::SlotData& data,
                RunResult& res) {
  const ModelConfig& c = res.model.tagger->config;
  r.describe(
      "## The task\n\nSlot filling, the lecture's ticket-booking example: in \"I would like to arrive "
      "Taipei on November 2nd\" a booking system must find the **destination** (Taipei) and the **time of "
      "arrival** (November 2nd), while in \"leave Taipei on November 2nd\" Taipei is the place of "
      "departure: the same word fills another slot because of the words around it, which is why a "
      "recurrent network reads the sentence. Every word gets a BIO tag: `B-<slot>` begins a slot value, "
      "`I-<slot>` continues it, `O` is outside any slot.");
  r.describe(fmt::format("## The model\n\nEmbedding of {} words into {} dimensions, {} {} layer(s) of {} "
                         "units{}, a linear layer from each word's state to its {} tag scores.\n\n",
                         c.vocab_size, c.embed, c.layers, c.cell, c.hidden,
                         c.bidirectional ? " per direction, read both ways (each word's state joins the "
                                           "left-to-right and the right-to-left one, so a tag sees the "
                                           "whole sentence)"
                                         : ", left to right (a tag sees only the words before it)",
                         c.tag_count) +
             app::cell_equations(c.cell) +
             "\n\nThe loss is the cross-entropy of each word's tag, averaged over the real words of the "
             "batch (padding weighs 0):\n\n"
             "$$L = -\\frac{1}{N} \\sum_{b, t \\le T_b} \\log \\operatorname{softmax}(h_{b}^{t} W_o + "
             "b_o)_{y_{b,t}}$$");
  r.describe("## Data and protocol\n\n" +
             train::markdown_table(
                 {"", ""},
                 {{"data", f.data.empty() ? "the built-in ticket-booking corpus (datasets/slots/ticket_corpus.cpp)"
                                          : "the ATIS-layout folder " + f.data},
                  {"sentences", fmt::format("{} train, {} valid, {} test", data.train.size(), data.valid.size(),
                                            data.test.size())},
                  {"vocabulary", fmt::format("{} words (of the train split; others are <unk>)", c.vocab_size)},
                  {"tags", fmt::format("{} BIO tags", c.tag_count)},
                  {"optimizer", fmt::format("Adam, learning rate {:g}, batch {}, gradient norm clipped to {:g}",
                                            s.lr, s.batch, f.clip)},
                  {"regularisation", fmt::format("dropout {:g}, word dropout {:g}", c.dropout, s.word_dropout)},
                  {"selection", fmt::format("valid F1 at each evaluation; the best (epoch {}, step {}) is kept "
                                            "and scored on test",
                                            res.best_epoch, res.best_step)},
                  {"scoring", "conlleval: a slot counts as right only when its type and its whole span are"}}));

  std::string tagged;
  for (const char* sentence : kLectureSentences) {
    const auto words = slots::tokenize(sentence);
    const auto tags = tag_words(res.model, words);
    std::vector<std::string> header{"word"}, row{"**tag**"};
    header.insert(header.end(), words.begin(), words.end());
    row.insert(row.end(), tags.begin(), tags.end());
    std::string found;  // the report's slot lines: "destination: Taipei"
    std::istringstream lines(tagging_report(words, tags));
    for (std::string l; std::getline(lines, l);)
      if (l.find(':') != std::string::npos)
        found += (found.empty() ? "" : "; ") + l.substr(l.find_first_not_of(' '));
    tagged += train::markdown_table(header, {row}) + "\nSlots found: " + found + ".\n\n";
  }
  r.markdown("## The lecture's sentences\n\nThe two sentences of the lecture, tagged by the trained model "
             "(never seen in training). The lecture's point: Taipei should be the destination (`B-dest`) in "
             "the first and the place of departure in the second, and November 2nd the time of arrival and "
             "of departure.\n\n" +
             tagged);
  if (!s.tag.empty() && !res.tagged.empty()) {
    std::string all;
    for (const std::string& t : res.tagged) all += t;
    r.text("## The sentences of --tag\n\nEach word with its tag, then the slots found.", all);
  }
  if (!res.scored) return;

  std::vector<std::pair<std::string, slots::ChunkCounts>> types(res.test.by_type().begin(),
                                                                 res.test.by_type().end());
  std::stable_sort(types.begin(), types.end(),
                   [](const auto& a, const auto& b) { return a.second.gold > b.second.gold; });
  if (types.size() > 10) types.resize(10);
  std::vector<std::vector<std::string>> rows;
  auto line = [&](const std::string& name, const slots::ChunkCounts& k) {
    rows.push_back({name, std::to_string(k.gold), std::to_string(k.predicted), std::to_string(k.correct),
                    fmt::format("{:.2f}", 100 * k.precision()), fmt::format("{:.2f}", 100 * k.recall()),
                    fmt::format("{:.2f}", 100 * k.f1())});
  };
  for (const auto& [name, k] : types) line(name, k);
  line("**all types**", res.test.total());
  r.table(fmt::format("## Scores per slot type\n\nThe test split scored with the kept weights, for the {} slot "
                      "types with the most values in it (conlleval: **precision** = right / predicted, "
                      "**recall** = right / in the data, **F1** their harmonic mean, in %). The last row is "
                      "every type together, as the log's `test:` line.",
                      types.size()),
          {"slot type", "in test", "predicted", "right", "precision", "recall", "F1"}, rows);
}

}  // namespace

std::size_t default_epochs(bool with_data) { return with_data ? kWithData.epochs : kBuiltIn.epochs; }

void add_flags(app::Frame& frame, Settings& s) {
  CLI::App& cli = frame.cli();
  cli.add_option("--cell", s.cell, "recurrent cell: rnn (Elman, tanh), lstm or gru")
      ->check(CLI::IsMember({"rnn", "lstm", "gru"}));
  cli.add_option("--bidirectional", s.bidirectional,
                 "true: read each sentence both ways (a tag sees the words after it too); "
                 "false: left to right only (a tag sees only the words before it)")
      ->transform(boolean_text())
      ->default_str("true");
  cli.add_option("--layers", s.layers, "stacked recurrent layers")->check(app::finite_range(1, 16));
  add_per_data(cli, "--embed", s.embed, "word embedding size", kWithData.embed, kBuiltIn.embed,
               app::finite_range(1, 4096));
  add_per_data(cli, "--hidden", s.hidden, "hidden units per direction", kWithData.hidden, kBuiltIn.hidden,
               app::finite_range(1, 4096));
  cli.add_option("--batch", s.batch, "sentences per training step")->check(app::finite_range(1, 100000));
  add_per_data(cli, "--lr", s.lr, "Adam learning rate", kWithData.lr, kBuiltIn.lr,
               app::finite_range(1e-12, 10));
  add_per_data(cli, "--dropout", s.dropout, "dropout on embeddings, recurrent outputs and between layers",
               kWithData.dropout, kBuiltIn.dropout, app::finite_range(0, 0.99));
  cli.add_option("--word-dropout", s.word_dropout, "probability of replacing a training word by <unk>")
      ->check(app::finite_range(0, 0.99));
  cli.add_flag("--random-batches", s.random_batches,
               "batches of random sentences (default: of similar lengths, which pads less)");
  cli.add_option("--patience", s.patience,
                 "stop after this many evaluations without a better valid F1 (0: never)")
      ->check(app::finite_range(0, 1e6));
  cli.add_option("--tag", s.tag,
                 "tag this sentence (repeatable; '-': each line of standard input) after training, "
                 "or with --load instead of training")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->default_str("");
  frame.free_on_resume("--tag");
  app::TrainingFlags d;
  d.epochs = kWithData.epochs;
  d.clip = 5;
  frame.add_training_flags(d);
  frame.cli()
      .get_option("--epochs")
      ->description(fmt::format("end the run after this many epochs (default {} with --data, {} on the "
                                "built-in corpus)",
                                kWithData.epochs, kBuiltIn.epochs))
      ->default_str("");
}

void resolve_defaults(app::Frame& frame, Settings& s) {
  const app::TrainingFlags& f = frame.flags();
  const bool with = !f.data.empty();
  resolve(frame, "--embed", s.embed, kWithData.embed, kBuiltIn.embed, with);
  resolve(frame, "--hidden", s.hidden, kWithData.hidden, kBuiltIn.hidden, with);
  resolve(frame, "--lr", s.lr, kWithData.lr, kBuiltIn.lr, with);
  resolve(frame, "--dropout", s.dropout, kWithData.dropout, kBuiltIn.dropout, with);
  CLI::Option* epochs = frame.cli().get_option("--epochs");
  if (epochs->count() == 0) {
    epochs->add_result(std::to_string(default_epochs(with)));
    epochs->run_callback();
  }
  if (f.load.empty()) return;
  if (!needs_data(frame, s) && (!f.save.empty() || !f.metrics.empty()))
    throw app::UsageError(
        "--load with --tag only tags: nothing is trained, --save and --metrics would stay empty");
  const std::string trained_on =
      frame.loaded_meta().value(Json::json_pointer("/slot_filling/data"), std::string());
  if (needs_data(frame, s) && trained_on == "folder" && !with)
    throw app::UsageError("--load '" + f.load + "' was trained on a --data folder: give --data DIR");
}

bool needs_data(const app::Frame& frame, const Settings& s) {
  const app::TrainingFlags& f = frame.flags();
  return f.load.empty() || f.eval_only || s.tag.empty();
}

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

#include "apps/slot_filling/slot_scoring.hpp"

#include <fmt/core.h>

#include <algorithm>

#include <tapegrad/datasets/slots/batch.hpp>
#include <tapegrad/datasets/slots/chunks.hpp>
#include <tapegrad/parallel/comm.hpp>
#include <tapegrad/parallel/data_parallel.hpp>  // share_of

namespace tg::slotapp {
namespace {

// A sentence of word ids as a (T, 1) batch.
xt::xarray<std::int64_t> column(const std::vector<std::int64_t>& ids) {
  xt::xarray<std::int64_t> w = xt::xarray<std::int64_t>::from_shape({ids.size(), std::size_t{1}});
  for (std::size_t t = 0; t < ids.size(); ++t) w(t, 0) = ids[t];
  return w;
}

// Restores a tagger's training flag when leaving a scope.
class EvalMode {
 public:
  explicit EvalMode(Tagger& t) : t_(t), was_(t.is_training()) { t_.eval(); }
  ~EvalMode() { t_.train(was_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Tagger& t_;
  bool was_;
};

}  // namespace

slots::ChunkScorer evaluate(SlotModel& model, const std::vector<slots::Utterance>& split, std::size_t chunk) {
  slots::ChunkScorer scorer;
  if (split.empty()) return scorer;
  const slots::EncodedSplit enc = slots::encode(split, model.vocab, model.tags);
  EvalMode eval(*model.tagger);
  Rng unused(0);
  Tape<float>& tape = *model.tape;
  for (const auto& idx : slots::batch_indices(split.size(), chunk)) {
    const slots::Batch b = slots::make_batch(enc, idx);
    {
      auto g = tape.no_grad();
      const Var<float> scores = model.tagger->forward(b.words, b.lengths, unused);
      const auto pred = slots::decode_tags(model.tagger->predict(scores.value(), b.lengths), b.lengths, model.tags);
      for (std::size_t c = 0; c < pred.size(); ++c) scorer.add(split[b.index[c]].tags, pred[c]);
    }
    tape.clear();
  }
  return scorer;
}

slots::ChunkScorer score(SlotModel& model, const std::vector<slots::Utterance>& split, const std::string& name,
                         std::FILE* warn) {
  if (split.empty()) throw Error("the " + name + " split is empty: nothing to score");
  const std::string w = slots::encode(split, model.vocab, model.tags).warning(name);
  if (!w.empty() && warn) fmt::print(warn, "{}\n", w);
  return evaluate(model, split);
}

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

std::vector<std::string> tag_words(SlotModel& model, const std::vector<std::string>& words) {
  if (words.empty()) return {};
  EvalMode eval(*model.tagger);
  Rng unused(0);
  std::vector<std::string> out;
  {
    auto g = model.tape->no_grad();
    const Var<float> scores =
        model.tagger->forward(column(model.vocab.encode(words)), {words.size()}, unused);
    out = slots::decode_tags(model.tagger->predict(scores.value(), {words.size()}), {words.size()}, model.tags)[0];
  }
  model.tape->clear();
  return out;
}

std::string tagging_report(const std::vector<std::string>& words, const std::vector<std::string>& tags) {
  std::size_t width = 0;
  for (const auto& w : words) width = std::max(width, w.size());
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i)
    s += "  " + words[i] + std::string(width - words[i].size() + 2, ' ') + tags[i] + "\n";
  const auto slots_found = slots::filled_slots(words, tags);
  if (slots_found.empty()) return s + "  slots: none\n";
  for (const auto& f : slots_found) s += "  " + f.name + ": " + f.value + "\n";
  return s;
}

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

}  // namespace tg::slotapp

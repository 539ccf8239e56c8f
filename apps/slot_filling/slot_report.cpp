#include "apps/slot_filling/slot_report.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>
#include <utility>

#include "apps/common/explain.hpp"

namespace tg::slotapp {
namespace {

void describe_task(train::Report& r) {
  r.describe(
      "## The task\n\nSlot filling, the lecture's ticket-booking example: in \"I would like to arrive "
      "Taipei on November 2nd\" a booking system must find the **destination** (Taipei) and the **time of "
      "arrival** (November 2nd), while in \"leave Taipei on November 2nd\" Taipei is the place of "
      "departure: the same word fills another slot because of the words around it, which is why a "
      "recurrent network reads the sentence. Every word gets a BIO tag: `B-<slot>` begins a slot value, "
      "`I-<slot>` continues it, `O` is outside any slot.");
}

// The loss and the decoding: per word, or the CRF's over the sentence.
std::string loss_text(const ModelConfig& c) {
  if (!c.crf)
    return "\n\nThe loss is the cross-entropy of each word's tag, averaged over the real words of the "
           "batch (padding weighs 0):\n\n"
           "$$L = -\\frac{1}{N} \\sum_{b, t \\le T_b} \\log \\operatorname{softmax}(h_{b}^{t} W_o + "
           "b_o)_{y_{b,t}}$$";
  return "\n\nA linear-chain CRF (`--crf`) scores whole tag sequences: the word scores $s_t = h_t W_o + b_o$ "
         "plus learnt transition scores $A_{y_{t-1} y_t}$ and start and end scores; an `I-X` after anything "
         "but `B-X` or `I-X` is forbidden. The loss is the negative log-likelihood of the gold sequence "
         "(the log-partition $\\log Z_b$ by the forward algorithm), summed over the batch's sentences and "
         "divided by its $N$ real words:\n\n"
         "$$L = \\frac{1}{N} \\sum_b \\Big(\\log Z_b - \\mathrm{start}_{y_1} - \\sum_{t \\le T_b} "
         "s_{b,t,y_t} - \\sum_{1 < t \\le T_b} A_{y_{t-1} y_t} - \\mathrm{end}_{y_{T_b}}\\Big)$$\n\n"
         "A sentence takes its best sequence (Viterbi).";
}

void describe_model(train::Report& r, const ModelConfig& c) {
  r.describe(fmt::format("## The model\n\nEmbedding of {} words into {} dimensions, {} {} layer(s) of {} "
                         "units{}, a linear layer from each word's state to its {} tag scores.\n\n",
                         c.vocab_size, c.embed, c.layers, c.cell, c.hidden,
                         c.bidirectional ? " per direction, read both ways (each word's state joins the "
                                           "left-to-right and the right-to-left one, so a tag sees the "
                                           "whole sentence)"
                                         : ", left to right (a tag sees only the words before it)",
                         c.tag_count) +
             app::cell_equations(c.cell) + loss_text(c));
}

void describe_protocol(train::Report& r, const Settings& s, const app::TrainingFlags& f,
                       const slots::SlotData& data, const RunResult& res) {
  const ModelConfig& c = res.model.tagger->config;
  r.describe("## Data and protocol\n\n" +
             train::markdown_table(
                 {"", ""},
                 {{"data", f.data.empty() ? "the built-in ticket-booking corpus (datasets/slots/ticket_corpus.cpp)"
                                          : "the ATIS-layout folder " + f.data},
                  {"sentences", fmt::format("{} train, {} valid, {} test", data.train.size(), data.valid.size(),
                                            data.test.size())},
                  {"vocabulary", fmt::format("{} words (of the train split; others are <unk>)", c.vocab_size)},
                  {"tags", fmt::format("{} BIO tags{}", c.tag_count,
                                       c.crf ? ", a CRF over the sequence (--crf: Viterbi decoding)" : "")},
                  {"optimizer", fmt::format("Adam, learning rate {:g}, batch {}, gradient norm clipped to {:g}",
                                            s.lr, s.batch, f.clip)},
                  {"regularisation", fmt::format("dropout {:g}, word dropout {:g}", c.dropout, s.word_dropout)},
                  {"selection", fmt::format("valid F1 at each evaluation; the best (epoch {}, step {}) is kept "
                                            "and scored on test",
                                            res.best_epoch, res.best_step)},
                  {"scoring", "conlleval: a slot counts as right only when its type and its whole span are"}}));
}

// A sentence's words and tags as a table, then "Slots found: destination:
// Taipei; ..." (the slot lines of tagging_report).
std::string tagged_table(const std::vector<std::string>& words, const std::vector<std::string>& tags) {
  std::vector<std::string> header{"word"}, row{"**tag**"};
  header.insert(header.end(), words.begin(), words.end());
  row.insert(row.end(), tags.begin(), tags.end());
  std::string found;
  std::istringstream lines(tagging_report(words, tags));
  for (std::string l; std::getline(lines, l);)
    if (l.find(':') != std::string::npos)
      found += (found.empty() ? "" : "; ") + l.substr(l.find_first_not_of(' '));
  return train::markdown_table(header, {row}) + "\nSlots found: " + found + ".\n\n";
}

void lecture_sentences(train::Report& r, SlotModel& model) {
  std::string tagged;
  for (const char* sentence : kLectureSentences) {
    const auto words = slots::tokenize(sentence);
    tagged += tagged_table(words, tag_words(model, words));
  }
  r.markdown("## The lecture's sentences\n\nThe two sentences of the lecture, tagged by the trained model "
             "(never seen in training). The lecture's point: Taipei should be the destination (`B-dest`) in "
             "the first and the place of departure in the second, and November 2nd the time of arrival and "
             "of departure.\n\n" +
             tagged);
}

// The test scores of the 10 slot types with the most values in the split,
// then of all types together.
void scores_per_type(train::Report& r, const slots::ChunkScorer& test) {
  std::vector<std::pair<std::string, slots::ChunkCounts>> types(test.by_type().begin(), test.by_type().end());
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
  line("**all types**", test.total());
  r.table(fmt::format("## Scores per slot type\n\nThe test split scored with the kept weights, for the {} slot "
                      "types with the most values in it (conlleval: **precision** = right / predicted, "
                      "**recall** = right / in the data, **F1** their harmonic mean, in %). The last row is "
                      "every type together, as the log's `test:` line.",
                      types.size()),
          {"slot type", "in test", "predicted", "right", "precision", "recall", "F1"}, rows);
}

}  // namespace

void add_report(train::Report& r, const Settings& s, const app::TrainingFlags& f, const slots::SlotData& data,
                RunResult& res) {
  describe_task(r);
  describe_model(r, res.model.tagger->config);
  describe_protocol(r, s, f, data, res);
  lecture_sentences(r, res.model);
  if (!s.tag.empty() && !res.tagged.empty()) {
    std::string all;
    for (const std::string& t : res.tagged) all += t;
    r.text("## The sentences of --tag\n\nEach word with its tag, then the slots found.", all);
  }
  if (res.scored) scores_per_type(r, res.test);
}

}  // namespace tg::slotapp

#include "apps/imdb_lstm/imdb_report.hpp"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "apps/common/explain.hpp"
#include "apps/common/main.hpp"
#include "apps/common/schedule.hpp"

namespace tg::imdb {
namespace {

// A review as the model reads it: its last maxlen tokens, "<unk>" for a word
// outside the vocabulary.
std::string as_read(const data::Imdb& d, std::size_t index) {
  std::string text;
  const std::int32_t* row = d.test.ids.data() + index * d.test.maxlen;
  for (std::size_t t = 0; t < d.test.maxlen; ++t)
    if (row[t] != data::Vocab::kPad) text += (text.empty() ? "" : " ") + d.vocab.token(row[t]);
  return text;
}

void describe_task_and_model(train::Report& r, const Model& model, const Settings& s, const data::Imdb& d) {
  r.describe(
      "## The task\n\nSentiment analysis: read a movie review from IMDB and say whether it is **positive** "
      "or **negative**. The homework of the lecture (docs/protocols.md section 4): the words of a review go "
      "through an embedding and an LSTM, one word per time step, and a linear layer on what the LSTM "
      "read gives the probability that the review is positive.");
  const std::string reads = s.pool == "last" ? "its last state"
                            : s.pool == "mean" ? "the mean of its outputs over the review's steps"
                                               : "the largest value of each output over the review's steps";
  r.describe(fmt::format("## The model\n\nEmbedding of {} ids into {} dimensions, {} LSTM layer(s) of {} units"
                         "{}{}, a linear layer on {} to one logit: {} parameters.\n\n",
                         d.vocab.size(), s.embed, s.layers, s.hidden, s.bidirectional ? ", both directions" : "",
                         s.mask ? ", the padding masked" : "", reads, model.parameter_count()) +
             app::cell_equations("lstm") +
             "\n\nThe word $w_t$ enters as $x^t = E[w_t]$ (a row of the embedding), and $h_b$ (" + reads +
             ") gives the probability of a positive review, trained with binary cross-entropy over a batch "
             "of $B$ reviews with labels $y_b \\in \\{0, 1\\}$:\n\n"
             "$$p_b = \\sigma(h_b^T W_o + b_o), \\qquad "
             "L = -\\frac{1}{B} \\sum_{b=1}^{B} \\big(y_b \\log p_b + (1 - y_b) \\log(1 - p_b)\\big)$$");
}

void describe_protocol(train::Report& r, const Settings& s, const app::TrainingFlags& f, const data::Imdb& d,
                       const RunResult& res) {
  r.describe("## Data and protocol\n\n" +
             train::markdown_table(
                 {"", ""},
                 {{"reviews", fmt::format("{} train, {} test (the even and the odd records of reviews.json){}",
                                          d.train.size(), d.test.size(),
                                          s.valid ? fmt::format("; {} of the train ones held out for validation "
                                                                "(--valid), the rest trained on", s.valid)
                                                  : "")},
                  {"vocabulary", fmt::format("{} ids: the {} most frequent of the {} distinct training tokens, "
                                             "and 0 padding, 1 unknown",
                                             d.vocab.size(), d.vocab.tokens().size(), d.distinct_train_tokens)},
                  {"length", fmt::format("the last {} tokens of each review, shorter ones padded on the left", s.maxlen)},
                  {"optimizer", fmt::format("Adam, learning rate {}, batch {}, gradient norm clipped to {:g}",
                                            app::describe_lr(s.lr, s.schedule, s.min_lr), s.batch, f.clip)},
                  {"schedule", fmt::format("steps {} to {} ({} per epoch), evaluation {}", res.first_step + 1,
                                           res.last_step, res.batches_per_epoch,
                                           f.eval_every ? fmt::format("every {} steps", f.eval_every)
                                                        : std::string("at each epoch end"))},
                  {"dropout", s.dropout > 0 || s.embed_dropout > 0
                                  ? fmt::format("{:g} before the linear layer (and between layers), {:g} on the "
                                                "embedded words", s.dropout, s.embed_dropout)
                                  : "none"},
                  {"kept", res.valid_acc >= 0 ? fmt::format("epoch {} (step {}), the best valid accuracy ({:.4f} "
                                                            "on {} training reviews held out)",
                                                            res.best_epoch, res.best_step, res.valid_acc, s.valid)
                                              : std::string("the last step")}}));
}

void add_first_review(train::Report& r, const Settings& s, const data::Imdb& d) {
  r.text(fmt::format("## The first training review\n\nAs the homework asks, the first review of the training "
                     "split, as written (label {}: {}). The model reads only its last {} tokens.",
                     d.train.size() ? int(d.train.labels[0]) : -1,
                     d.train.size() && d.train.labels[0] > 0.5f ? "positive" : "negative", s.maxlen),
         d.first_train_text + "\n");
}

void add_accuracy_table(train::Report& r, const RunResult& res) {
  std::vector<const char*> names{"train_acc", "test_acc"};
  std::vector<std::string> header{"step", "epoch", "train loss", "train accuracy", "test accuracy"};
  if (res.valid_acc >= 0) {  // --valid's column between the two
    names.insert(names.begin() + 1, "valid_acc");
    header.insert(header.begin() + 4, "valid accuracy");
  }
  std::vector<std::vector<std::string>> epochs;
  for (const train::Row& row : res.rows) {
    std::vector<std::string> line{std::to_string(row.step), fmt::format("{:.2f}", double(row.step) / double(res.batches_per_epoch)),
                                  fmt::format("{:.4f}", row.loss)};
    for (const char* name : names) {
      const double v = metric_value(row.values, name);
      line.push_back(v >= 0 ? fmt::format("{:.4f}", v) : "-");
    }
    epochs.push_back(std::move(line));
  }
  if (!epochs.empty())
    r.table("## Accuracy per epoch\n\nThe fraction of reviews classified right (probability above 0.5 for a "
            "positive one) on the whole training and test splits at each evaluation; the same values as the "
            "accuracy figure above. Train far above test is overfitting.",
            header, epochs);
}

// The first test reviews with the probability the trained model gives them.
void add_test_reviews(train::Report& r, Model& model, const data::Imdb& d) {
  const std::size_t n = std::min<std::size_t>(5, d.test.size());
  const std::vector<double> p = probabilities(model, data::imdb_range(d.test, 0, n));
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < n; ++i) {
    std::string text = as_read(d, i);
    if (text.size() > 300) text = "... " + text.substr(text.size() - 300);
    rows.push_back({std::to_string(i + 1), fmt::format("{:.4f}", p[i]), p[i] > 0.5 ? "positive" : "negative",
                    d.test.labels[i] > 0.5f ? "positive" : "negative", text});
  }
  r.table("## Some test reviews\n\nThe first test reviews as the model read them (lower case, punctuation "
          "dropped, `<unk>` for a word outside the vocabulary; at most their last 300 characters here), with "
          "the probability of a positive review the trained model gives.",
          {"review", "P(positive)", "predicted", "label", "text"}, rows);
}

}  // namespace

void describe_model(const Model& model, const Settings& s, std::size_t vocab_rows, std::FILE* out) {
  const std::string pooled = s.pool == "last" ? "" : fmt::format("{} over time -> ", s.pool);
  fmt::print(out, "model: Embedding({},{}) -> {}LSTM({},{},{} layer(s){}{}) -> {}{}Linear({},1); {} parameters\n",
             vocab_rows, s.embed, s.embed_dropout > 0 ? fmt::format("Dropout({}) -> ", s.embed_dropout) : "",
             s.embed, s.hidden, s.layers, s.bidirectional ? ", bidirectional" : "", s.mask ? ", masked" : "",
             pooled, s.dropout > 0 ? fmt::format("Dropout({}) -> ", s.dropout) : "",
             s.hidden * (s.bidirectional ? 2 : 1), model.parameter_count());
  fmt::print(out, "{}", model.summary());
}

double metric_value(const train::Metrics& m, const std::string& name) {
  for (const auto& [k, v] : m)
    if (k == name) return v;
  return -1;
}

std::string metrics_text(const train::Metrics& m) {
  std::string text;
  for (const auto& [name, value] : m) {
    std::string label = name;
    std::replace(label.begin(), label.end(), '_', ' ');
    text += fmt::format("  {} {:.4f}", label, value);
  }
  return text;
}

std::string evaluation_line(const train::Row& row, const train::Row& since, std::size_t per_epoch,
                            double eval_seconds) {
  const bool epoch_end = row.step % per_epoch == 0;
  std::string line = epoch_end ? fmt::format("epoch {}: train loss {:.4f}", row.epoch, row.loss)
                               : fmt::format("step {} (epoch {}): train loss {:.4f}", row.step,
                                             row.epoch, row.loss);
  line += metrics_text(row.values);
  const double seconds = row.train_seconds - since.train_seconds;
  const std::size_t steps = row.step - since.step;
  line += fmt::format("  {} {:.1f} s ({:.1f} ms/step)", epoch_end ? "epoch time" : "time", seconds,
                      steps ? seconds / double(steps) * 1e3 : 0.0);
  if (!row.values.empty()) line += fmt::format("  [evaluation {:.0f} s]", eval_seconds);
  return line;
}

void add_report(train::Report& r, Model& model, const Settings& s, const app::TrainingFlags& f,
                const data::Imdb& d, const RunResult& res) {
  describe_task_and_model(r, model, s, d);
  describe_protocol(r, s, f, d, res);
  add_first_review(r, s, d);
  add_accuracy_table(r, res);
  add_test_reviews(r, model, d);
}

std::string result_line(const Settings& s, const app::Frame& frame, const RunResult& r) {
  const app::TrainingFlags& f = frame.flags();
  const std::size_t steps = r.last_step - r.first_step, per_epoch = std::max<std::size_t>(r.batches_per_epoch, 1);
  std::string line = fmt::format(
      "RESULT name={} impl=tapegrad layers={} epochs={} steps={} batch={} train_seconds={:.6g} "
      "ms_per_step={:.6g} train_cpu_seconds={:.6g}",
      s.layers == 1 ? "imdb_lstm" : fmt::format("imdb_lstm{}", s.layers), s.layers,
      (r.last_step + per_epoch - 1) / per_epoch, steps, s.batch, r.train_seconds,
      steps ? r.train_seconds / double(steps) * 1e3 : 0.0, r.train_cpu_seconds);
  // Whole epochs only, as the twin (which reports it without --max-batches).
  if (steps && r.first_step % per_epoch == 0 && r.last_step % per_epoch == 0)
    line += fmt::format(" epoch_seconds={:.6g}", r.train_seconds / double(steps / per_epoch));
  if (!r.rows.empty()) line += fmt::format(" train_loss={:.6g}", r.rows.back().loss);
  if (r.train_acc >= 0) line += fmt::format(" train_acc={:.6g}", r.train_acc);
  if (r.test_acc >= 0) line += fmt::format(" test_acc={:.6g}", r.test_acc);
  if (r.valid_acc >= 0) line += fmt::format(" valid_acc={:.6g} best_epoch={}", r.valid_acc, r.best_epoch);
  if (r.eval_seconds >= 0) line += fmt::format(" eval_seconds={:.6g}", r.eval_seconds);
  line += fmt::format(" peak_mib={:.6g} threads={} seed={}", app::peak_mib(), f.threads, f.seed);
  if (s.mask || s.bidirectional || s.dropout > 0 || s.pool != "last" || s.embed_dropout > 0)
    line += fmt::format(" mask={} bidirectional={} dropout={} pool={} embed_dropout={}", int(s.mask),
                        int(s.bidirectional), s.dropout, s.pool, s.embed_dropout);
  return line;
}

}  // namespace tg::imdb

// imdb_lstm's validation split (--valid N): carved from the training split
// by a fixed rule, scored at each evaluation, and the epoch with the best
// valid accuracy kept (its weights, its test accuracy the run's result).
#include "apps/imdb_lstm/imdb_app.hpp"

#include <cmath>

#include <fmt/core.h>

#include "apps/imdb_lstm/imdb_report.hpp"
#include <tapegrad/train/callbacks.hpp>

namespace tg::imdb {
namespace {

// Appends review i of `from` to `to` (its padded row, length and label).
void append_row(data::ImdbSplit& to, const data::ImdbSplit& from, std::size_t i) {
  const auto row = from.ids.begin() + std::ptrdiff_t(i * from.maxlen);
  to.ids.insert(to.ids.end(), row, row + std::ptrdiff_t(from.maxlen));
  to.lengths.push_back(from.lengths[i]);
  to.labels.push_back(from.labels[i]);
  if (!from.texts.empty()) to.texts.push_back(from.texts[i]);
}

}  // namespace

TrainValid carve_valid(const data::ImdbSplit& train, std::size_t n) {
  const std::size_t m = train.size();
  if (n >= m)
    throw app::UsageError(fmt::format("--valid {} leaves no training review (the training split has {})", n, m));
  TrainValid out;
  out.train.maxlen = out.valid.maxlen = train.maxlen;
  // Review floor(k * m / n) for k = 0..n-1: spread evenly over the split,
  // the same for every seed, so the seeds of a recipe are chosen on the
  // same reviews. (reviews.json is sorted by label: a block would be one
  // class; this draws half of each.)
  std::size_t next = 0, k = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (k < n && i == next) {
      append_row(out.valid, train, i);
      next = (++k * m) / n;
    } else {
      append_row(out.train, train, i);
    }
  }
  return out;
}

bool selects_best(const Settings& s) { return s.valid > 0 && s.eval != "none"; }

train::EarlyStopping best_on_valid() {
  // Patience 0: every epoch is trained (the protocol's count), only the best
  // weights are kept.
  return {"valid_acc", train::EarlyStopping::Mode::Max, /*patience=*/0, /*min_delta=*/0, /*restore_best=*/true};
}

void take_best(const train::Trainer<float>& trainer, RunResult& res) {
  const train::Best& best = trainer.best();
  if (std::isnan(best.value)) return;
  res.valid_acc = best.value;
  res.best_epoch = best.epoch;
  res.best_step = best.step;
  res.train_acc = res.test_acc = -1;  // unknown when the best was before a resume
  for (const train::Row& row : res.rows)
    if (row.step == best.step) {
      res.train_acc = metric_value(row.values, "train_acc");
      res.test_acc = metric_value(row.values, "test_acc");
    }
}

std::string best_line(const RunResult& res) {
  std::string line = fmt::format("best valid acc {:.4f} at epoch {} (step {}): its weights are kept", res.valid_acc,
                                 res.best_epoch, res.best_step);
  if (res.test_acc >= 0) line += fmt::format("; its test acc {:.4f}", res.test_acc);
  return line;
}

}  // namespace tg::imdb

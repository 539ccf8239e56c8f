// slot_filling's memory estimate (apps/common/memory_budget.hpp), checked
// once the data is read (its vocabulary and longest sentence size the run)
// and before the model is built.
#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "apps/common/memory_budget.hpp"
#include "apps/slot_filling/slot_app.hpp"

namespace tg::slotapp {
namespace {

constexpr double kEvalChunk = 500;  // sentences per evaluation chunk (slot_scoring.hpp)

std::size_t longest(const std::vector<slots::Utterance>& split) {
  std::size_t n = 0;
  for (const slots::Utterance& u : split) n = std::max(n, u.words.size());
  return n;
}

}  // namespace

void check_memory(const Settings& s, const app::Frame& frame, const slots::SlotData& data) {
  const bool training = frame.flags().load.empty() || (!frame.flags().eval_only && s.tag.empty());
  std::set<std::string> words, tags;
  for (const slots::Utterance& u : data.train) {
    for (const std::string& w : u.words) words.insert(slots::lowercase(w));
    tags.insert(u.tags.begin(), u.tags.end());
  }
  const double train_steps = double(longest(data.train));
  const double eval_steps = double(std::max({longest(data.valid), longest(data.test), longest(data.train)}));
  app::MemoryEstimate e(fmt::format("--cell {} --hidden {} --embed {} --layers {} --bidirectional {}{}; "
                                    "{} words, {} tags, the longest sentence {} tokens (--max-length)",
                                    s.cell, s.hidden, s.embed, s.layers, s.bidirectional,
                                    training ? fmt::format(" --batch {}", s.batch) : "", words.size(),
                                    tags.size(), std::size_t(eval_steps)));
  const double directions = s.bidirectional ? 2 : 1, classes = double(tags.size() + 1);
  const app::RecurrentShape rnn{s.cell, double(s.embed), double(s.hidden), double(s.layers), directions};
  e.parameters(rnn.parameters() + double(words.size() + 2) * double(s.embed) +
                   (double(s.hidden) * directions + 1) * classes,
               training);
  if (training) e.training(rnn, train_steps, double(s.batch));
  e.evaluation(rnn, eval_steps, kEvalChunk);
  e.add("the scores", 4.0 * 4 * std::max(train_steps * double(s.batch), eval_steps * kEvalChunk) * classes);
  app::check_memory(frame, e);
}

}  // namespace tg::slotapp

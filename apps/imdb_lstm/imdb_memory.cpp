// imdb_lstm's memory estimate (apps/common/memory_budget.hpp), checked
// before the reviews are read or the model built.
#include <fmt/core.h>

#include "apps/common/memory_budget.hpp"
#include "apps/imdb_lstm/imdb_app.hpp"

namespace tg::imdb {

void check_memory(const Settings& s, const app::Frame& frame) {
  constexpr double kReviews = 50000;  // both splits of IMDB
  const bool training = !frame.flags().eval_only && s.predict.empty();
  const double directions = s.bidirectional ? 2 : 1, rows = double(s.vocab) + 2, steps = double(s.maxlen);
  app::MemoryEstimate e(fmt::format("--hidden {} --embed {} --layers {}{} --vocab {} --maxlen {}{} --eval-batch {}",
                                    s.hidden, s.embed, s.layers, s.bidirectional ? " --bidirectional" : "",
                                    s.vocab, s.maxlen, training ? fmt::format(" --batch {}", s.batch) : "",
                                    s.eval_batch));
  const app::RecurrentShape rnn{"lstm", double(s.embed), double(s.hidden), double(s.layers), directions};
  e.parameters(rnn.parameters() + rows * double(s.embed) + double(s.hidden) * directions + 1, training);
  if (training) e.training(rnn, steps, double(s.batch));
  e.evaluation(rnn, steps, double(s.eval_batch));
  e.add("the projected vocabulary", 4.0 * rows * 4 * double(s.hidden));
  if (s.predict.empty()) e.add("the encoded reviews", 4.0 * kReviews * steps);
  app::check_memory(frame, e);
}

}  // namespace tg::imdb

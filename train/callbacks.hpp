// What the Trainer does beside its loop: each callback is set with one call
// before resume() and fit(), and what it keeps goes into the checkpoint, so a
// resumed run still continues bit for bit.
//
//   trainer.early_stopping({"valid_f1", train::EarlyStopping::Mode::Max, 3});
//   trainer.schedule(cosine, train::Every::Step);  // the lr, resumed with the run
//   trainer.keep("hidden", h);                     // a carried state, in the checkpoint
//   options.log_line = ...;                        // the line of each evaluation
//   options.progress_every = 50;                   // plain progress lines in a log file
//
// and the evaluation loop every model writes, train::for_chunks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <tapegrad/autograd/named_parameter.hpp>
#include <tapegrad/autograd/tape.hpp>

namespace tg::train {

using Json = nlohmann::json;

// Named values from an evaluation, in the order they are logged and written
// to the metrics CSV: {{"test_loss", 0.31}, {"test_acc", 0.91}}.
using Metrics = std::vector<std::pair<std::string, double>>;

struct Row {  // one evaluation point, as logged
  std::size_t step = 0, epoch = 0;
  double loss = 0;          // mean training loss since the previous row
  Metrics values;           // the evaluation's
  double train_seconds = 0; // training time so far in this process (evaluation excluded)
  double eval_seconds = 0;  // this evaluation's wall time
};

// The Trainer's line for a row (Options::log_line's default):
// "step   300  epoch  2  loss 0.4312  test_acc 0.8800  [train 12.3 s]".
std::string default_line(const Row& row);
// A line for a row, given the row before it (Options::log_line).
using LineFn = std::function<std::string(const Row& row, const Row& previous)>;

// Early stopping on a metric the evaluation returns. An evaluation improves
// when its value is above the best by more than min_delta (Max; below it,
// Min); the first always does. After `patience` evaluations in a row without
// improvement the run stops (0: never, the best weights are only kept). The
// best weights are restored at the end of fit() with restore_best.
struct EarlyStopping {
  enum class Mode { Min, Max };
  std::string metric;
  Mode mode = Mode::Max;
  std::size_t patience = 0;
  double min_delta = 0;
  bool restore_best = true;
};

// Where early stopping is: the best value (NaN before any evaluation), the
// step and epoch (from 1) of its evaluation, the evaluations since it, and
// whether the run has stopped.
struct Best {
  double value = std::numeric_limits<double>::quiet_NaN();
  std::size_t step = 0, epoch = 0, since = 0;
  bool stopped = false;
};

// Early stopping's bookkeeping, apart from the weights (the Trainer copies
// them when observe() says so).
class Stopper {
 public:
  // Throws tg::Error on an empty metric or a min_delta not finite and >= 0.
  explicit Stopper(EarlyStopping settings);
  // Takes an evaluation's values at (step, epoch): true when it is the new
  // best. Throws tg::Error naming the metric and the ones the evaluation has
  // when it is not among them.
  bool observe(const Metrics& values, std::size_t step, std::size_t epoch);
  const EarlyStopping& settings() const { return settings_; }
  const Best& best() const { return best_; }
  // The state in the checkpoint's metadata ("trainer/early_stopping") and
  // back; restore() checks that the metric and mode are this run's.
  Json json() const;
  void restore(const Json& saved, const std::string& path);
  // "early stopping at step 360: valid_f1 ..." for the log.
  std::string stop_line(std::size_t step) const;

 private:
  EarlyStopping settings_;
  Best best_;
};

// What early stopping had reached when checkpoint `path` (metadata `meta`)
// was saved: its "trainer/early_stopping", checked (tg::Error naming the file
// and the key). For a program that only evaluates the checkpoint.
Best saved_best(const Json& meta, const std::string& path);

// The weights early stopping kept in checkpoint `path` (its model.best.*
// tensors) into `params` (names and shapes checked as ckpt::load does):
// the model as a run with restore_best ended, to evaluate or use.
template <class T>
void load_best_weights(const std::string& path, const std::vector<NamedParameter<T>>& params);

// When the Trainer steps a learning-rate schedule: after every optimizer
// step, or after the last step of each epoch.
enum class Every { Step, Epoch };

// The schedule's counter in the checkpoint's metadata ("trainer/schedule"),
// and back: the counter, after checking `every` is the saved one.
Json schedule_json(Every every, std::size_t counter);
std::size_t schedule_counter(const Json& saved, Every every, const std::string& path);

// The evaluation loop: f(begin, count) over n items, `chunk` at a time,
// under no_grad, with the tape cleared after each chunk (so no chunk's
// values pile up). Throws tg::Error when chunk is 0.
//
//   train::for_chunks(tape, test.size(), 256, [&](std::size_t begin, std::size_t count) {
//     correct += count_right(model.forward(batch(test, begin, count)));
//   });
template <class T, class F>
void for_chunks(Tape<T>& tape, std::size_t n, std::size_t chunk, F&& f) {
  if (chunk == 0) throw Error("for_chunks: the chunk size is 0");
  for (std::size_t begin = 0; begin < n; begin += chunk) {
    {
      auto no_grad = tape.no_grad();
      f(begin, std::min(chunk, n - begin));
    }
    tape.clear();
  }
}

}  // namespace tg::train

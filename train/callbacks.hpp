// What the Trainer does beside its loop: each callback is set with one call
// before resume() and fit(), and what it keeps goes into the checkpoint, so a
// resumed run still continues bit for bit.
//
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
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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

// The one training loop of tapegrad: every app and every user model trains
// through it, as Keras models through fit() and PyTorch models through
// Lightning's Trainer. The user gives the model's parameters, an optimizer,
// a function from a batch position to the loss, and (optionally) an
// evaluation; the Trainer owns everything else:
//
//   for each step until options.steps (or options.epochs):
//     loss = loss_fn({step, epoch, batch})     forward, built on the tape
//     tape.backward(loss)                      BPTT falls out of the tape
//     check loss and gradient norm finite      else stop: TrainingError
//     on_gradients(...)                        e.g. averaging across processes
//     clip to options.clip (global norm)
//     optimizer.step(); zero_grad(); tape.clear()
//     schedule.step() (per step, or at an epoch's last step)
//     at evaluation points: evaluate() under no_grad, tape.clear(), early
//       stopping's bookkeeping, checkpoint, log line, metrics row
//
// Callbacks (train/callbacks.hpp) add early stopping, a learning-rate
// schedule and tensors the model carries (a hidden state); what they keep is
// in the checkpoint too.
//
// A checkpoint holds the weights, the optimizer state (keyed by parameter
// name), the run's settings and the Trainer's own state (position, the
// random generator handed to loss_fn), so a run resumed from it continues bit
// for bit as the uninterrupted run would have.
//
//   train::Trainer<float> trainer(tape, model.named_parameters(), adam, options);
//   trainer.fit([&](const train::Batch& b) { return loss_of(sampler.at(b.epoch, b.index)); },
//               [&] { return train::Metrics{{"test_acc", accuracy(test)}}; });
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <tapegrad/autograd/named_parameter.hpp>
#include <tapegrad/autograd/random.hpp>
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/optim/optimizer.hpp>
#include <tapegrad/optim/schedule.hpp>
#include <tapegrad/train/callbacks.hpp>
#include <tapegrad/train/log.hpp>

namespace tg::train {

// Where a step is: `step` counts from 1 over the whole run (resumes
// included); `epoch` and `index` (both from 0) say which batch of which epoch.
struct Batch {
  std::size_t step = 0, epoch = 0, index = 0;
};

// Training became non-finite or diverged. Nothing was saved from the bad
// weights; the message names the step and the last checkpoint.
struct TrainingError : Error {
  using Error::Error;
};

struct Options {
  std::size_t batches_per_epoch = 0;  // required
  // Where the run ends, counted from its start (a resumed run continues to
  // the same end): `steps` when non-zero, else `epochs` whole epochs.
  std::size_t steps = 0, epochs = 0;
  // Evaluate every N steps; 0: at the end of each epoch. Always at the end.
  std::size_t eval_every = 0;
  double clip = 0;          // clip gradients to this global L2 norm; 0: off
  double max_loss = 1e6;    // a finite loss above this is divergence; 0: off
  std::string save;         // checkpoint written at every evaluation ("" none)
  std::string metrics;      // CSV: step, epoch, loss, <evaluation>, train_seconds
  bool progress = true;     // progress line on stderr, when it is a terminal
  // When stderr is not a terminal (a log file) and `progress` is on: a plain
  // line there every N steps and at each epoch end, with the mean loss of
  // the epoch so far, "  epoch 1 batch 50/391  loss 0.6912"; 0: none.
  std::size_t progress_every = 0;
  bool detect_anomaly = false;  // the tape checks every op's result and gradient
  // The op profiler's table goes to `log` at the end of fit() when the
  // profiler is on (--profile, TAPEGRAD_PROFILE=1); its CSV to this file.
  std::string profile_csv;
  std::FILE* log = stdout;  // evaluation lines; nullptr: silent
  // The line of an evaluation on `log` ("": none). `previous` is the row
  // before, or for this process's first row one at the step it started from
  // (no values, times 0). Default: default_line(row).
  LineFn log_line;
  std::string unit = "steps";
  // Stored in every checkpoint: {"app": ..., "config": {...}} (settings
  // checking is the caller's: see apps/common/frame.hpp).
  Json meta = Json::object();
};

template <class T>
class Trainer {
 public:
  using LossFn = std::function<Var<T>(const Batch&)>;
  using EvalFn = std::function<Metrics()>;

  // `params` are saved and loaded by name; the optimizer must be built over
  // the same parameters. The seed seeds rng() (dropout, noise).
  Trainer(Tape<T>& tape, std::vector<NamedParameter<T>> params, Optimizer<T>& optimizer,
          Options options, std::uint64_t seed = 1);

  // Restores weights, optimizer state, position and rng() from a checkpoint
  // written by this class. Returns its metadata.
  Json resume(const std::string& path);

  // Trains to the end set by the options; returns the rows logged.
  const std::vector<Row>& fit(const LossFn& loss_fn, const EvalFn& evaluate = {});

  // Writes a checkpoint of the current state (the Trainer calls it at each
  // evaluation when options.save is set). Throws, writing nothing, if a
  // weight is not finite.
  void save(const std::string& path) const;

  // Random numbers for the loss function (dropout masks): saved and restored
  // with the checkpoint, so a resumed run draws the same masks.
  Rng& rng() { return rng_; }
  std::size_t step() const { return step_; }  // steps done so far
  std::size_t total_steps() const;
  const std::vector<Row>& history() const { return rows_; }
  double train_seconds() const { return train_seconds_; }  // wall, evaluation excluded
  double train_cpu_seconds() const { return train_cpu_seconds_; }  // process CPU, same spans
  Options& options() { return options_; }

  // Callbacks (train/callbacks.hpp), each set before resume() and fit():
  // they decide what a checkpoint holds.
  //
  // Early stopping on a metric of the evaluation. The best weights are
  // copies beside the parameters, saved as tensors "model.best.<name>";
  // fit() stops after es.patience evaluations without improvement, does
  // nothing on a run that stopped, and ends with the best weights in the
  // parameters (es.restore_best: a later fit() in this process goes on from
  // them, a resume() from the checkpoint from the last). Its state is best().
  void early_stopping(EarlyStopping es);
  const Best& best() const;  // a Best with value NaN without early stopping
  // Steps `scheduler` after every optimizer step (Every::Step) or after each
  // epoch's last one (Every::Epoch), before that step's evaluation and
  // checkpoint. Its counter is in the checkpoint; resume() sets it, and the
  // optimizer's lr with it, as the unbroken run had them.
  void schedule(LRScheduler<T>& scheduler, Every every);
  // A tensor the run carries across steps (an LM's hidden state), saved in
  // every checkpoint as "state.<name>" and copied back into `tensor` by
  // resume(), which must have the saved shape by then (else tg::Error
  // naming the tensor, the file and both shapes). `tensor` must outlive the
  // Trainer.
  void keep(const std::string& name, Tensor<T>& tensor);

  // Hooks. on_gradients runs after backward and the finiteness check, before
  // clipping and the optimizer step (gradient averaging goes here).
  std::function<void(const Batch&)> on_gradients;
  std::function<void(const Batch&, double loss)> on_step;
  std::function<void(const Row&)> on_evaluation;
  std::function<void(std::size_t epoch)> on_epoch_end;  // epochs done so far

 private:
  Json state_json() const;
  ckpt::SavedTensors<T> saved_extra() const;   // the callbacks' tensors
  ckpt::LoadedTensors<T> loaded_extra();
  void resume_callbacks(const Json& meta, const std::string& path);
  void require_unstarted(const std::string& what) const;
  std::vector<Var<T>> gradient_vars() const;  // params_' handles
  std::string saved_so_far() const;  // for error messages
  bool evaluation_due(const Batch& b) const;
  bool stopped() const { return stopper_ && stopper_->best().stopped; }
  // The steps of fit().
  void say_if_idle(std::size_t end) const;
  double train_step(const LossFn& loss_fn, const Batch& b);  // returns the loss
  void check_loss(const Batch& b, double loss) const;  // finite, below max_loss
  void clip(const std::vector<Var<T>>& vars, double norm);
  void after_step(const Batch& b, double loss, Progress& progress, std::size_t first);
  void evaluate_at(const Batch& b, const EvalFn& evaluate);
  Metrics run_evaluation(const EvalFn& evaluate, double* seconds);
  void log_row(const Row& row);
  void finish_fit(std::size_t first);

  Tape<T>& tape_;
  std::vector<NamedParameter<T>> params_;
  Optimizer<T>& optimizer_;
  Options options_;
  Rng rng_;
  std::size_t step_ = 0;
  double loss_sum_ = 0;      // since the last evaluation
  std::size_t loss_count_ = 0;
  bool resumed_ = false;
  std::size_t resumed_from_ = 0;
  std::size_t last_saved_step_ = 0;
  double train_seconds_ = 0, train_cpu_seconds_ = 0;
  std::vector<Row> rows_;
  MetricsCsv csv_;
  bool started_ = false;         // resume() or fit() ran: no more callbacks
  bool periodic_ = false;        // progress_every lines in this fit()
  double epoch_loss_sum_ = 0;    // for the progress_every lines
  std::size_t epoch_loss_count_ = 0;
  std::optional<Stopper> stopper_;
  std::vector<Tensor<T>> best_weights_;  // params_' best values (early stopping)
  LRScheduler<T>* scheduler_ = nullptr;
  Every every_ = Every::Step;
  std::vector<std::pair<std::string, Tensor<T>*>> kept_;  // "state.<name>"
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace tg::train

// The skeleton every app's run stands on, written once: the Trainer built
// from the shared flags, the --load checkpoint resumed (or, with
// --eval-only, its weights loaded), DataParallel under mpirun with rank 0
// alone speaking, fit(), and the results every app reports. An app is then
// its model, its loss, its evaluation and its report sections:
//
//   Session s(frame, tape, model, adam, frame.trainer_options(loader.batches_per_epoch()), log);
//   s.trainer().early_stopping(...);     // optional: callbacks before start()
//   s.start();                           // load or resume, DataParallel
//   s.say("model: ..." + s.loaded_from());
//   if (s.eval_only()) { ...evaluate the loaded weights... }
//   else s.fit([&](const train::Batch& at) { return s.ddp().loss(loss_of(s.batch(loader, at))); },
//              [&] { return train::Metrics{...}; });
//   ... s.info() for the RESULT line and the report; s.export_model();
#pragma once

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/common/frame.hpp"
#include <tapegrad/optim/optimizer.hpp>
#include <tapegrad/parallel/data_parallel.hpp>
#include <tapegrad/train/trainer.hpp>

namespace tg::app {

// What a run did: the fields every app's RESULT line and report start from.
struct RunInfo {
  std::size_t first_step = 0;         // steps done by the --load checkpoint
  std::size_t last_step = 0;          // where this run ended
  std::size_t batches_per_epoch = 0;
  std::vector<train::Row> rows;       // the evaluations this run logged
  double train_seconds = 0;           // wall time of the training steps (evaluation excluded)
  double train_cpu_seconds = 0;       // process CPU time over the same spans
  int processes = 1;                  // under mpirun -np N: N

  std::size_t steps() const { return last_step - first_step; }
  double ms_per_step() const { return steps() ? train_seconds / double(steps()) * 1e3 : 0.0; }
};

class Session {
 public:
  // Builds the Trainer over the model's named parameters; `options` from
  // frame.trainer_options(), adjusted by the app. `log`: where the app and
  // the Trainer log (nullptr: silent); under mpirun rank 0 alone logs.
  Session(const Frame& frame, Tape<float>& tape, Module<float>& model, Optimizer<float>& optimizer,
          train::Options options, std::FILE* log);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  train::Trainer<float>& trainer() { return trainer_; }
  const train::Trainer<float>& trainer() const { return trainer_; }
  // --eval-only: loads the --load checkpoint's weights; else --load:
  // resumes the run (weights, optimizer, position, callbacks' state). Then
  // spreads rank 0's state over the processes of the run (DataParallel).
  void start();
  parallel::DataParallel<float>& ddp() { return *ddp_; }  // after start()
  bool is_root() const { return ddp_ ? ddp_->is_root() : parallel::is_root(); }
  // This process's share of training batch `at` (data::Loader's batch
  // (at.epoch, at.index); all of it in one process), its weight in the
  // loss noted by ddp().shard.
  template <class Loader>
  auto batch(Loader& loader, const train::Batch& at) {
    return loader.collate(ddp().shard(loader.indices(at.epoch, at.index)));
  }

  const TrainingFlags& flags() const { return frame_.flags(); }
  bool eval_only() const { return frame_.flags().eval_only; }
  std::FILE* log() const { return log_; }
  void say(const std::string& line) const;     // a line on the log
  void print(const std::string& text) const;   // text on the log as it is
  // " (from PATH, step N)" after --load, else "".
  std::string loaded_from() const;
  // " over N processes" under mpirun, else "".
  std::string processes() const;

  // Trains to the end the flags set, adds the training section to the
  // report, and says what the gradient exchange cost under mpirun.
  const RunInfo& fit(const train::Trainer<float>::LossFn& loss, const train::Trainer<float>::EvalFn& evaluate);
  const RunInfo& info() const { return info_; }

  // --export-torch: the model as it ends the run (rank 0 alone).
  void export_model() const { frame_.export_model(model_, log_); }

 private:
  const Frame& frame_;
  Module<float>& model_;
  Optimizer<float>& optimizer_;
  train::Trainer<float> trainer_;
  std::unique_ptr<parallel::DataParallel<float>> ddp_;
  std::FILE* log_;
  RunInfo info_;
};

// A checkpoint's weights into `model` for evaluation or prediction (the
// best ones, model.best.*, when its run had early stopping): a tg::Error
// naming the file, the parameter and the element when one is not finite.
void load_weights(const std::string& path, const Module<float>& model);

// The step a --load checkpoint was saved at (its "trainer/step"), checked:
// a tg::Error naming the file when it is not a count.
std::size_t saved_step(const Frame& frame);

}  // namespace tg::app

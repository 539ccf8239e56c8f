#include "apps/common/session.hpp"

#include <fmt/core.h>

#include <tapegrad/checkpoint/state.hpp>

namespace tg::app {

std::size_t saved_step(const Frame& frame) {
  const std::string& path = frame.flags().load;
  const nlohmann::json& step = ckpt::at(frame.loaded_meta(), "/trainer/step", path);
  // A count the Trainer could have written: training refuses the others in
  // resume(), so evaluation must too.
  if (!step.is_number_unsigned() || step.get<std::uint64_t>() > (std::uint64_t(1) << 53))
    throw Error(path + ": checkpoint metadata 'trainer/step' is " + step.dump() + ", not a step count");
  return step.get<std::size_t>();
}

void load_weights(const std::string& path, const Module<float>& model) {
  // A run with early stopping kept its best weights (model.best.*): the
  // ones it chose, and ended with.
  const nlohmann::json meta = ckpt::read_meta(path);
  if (meta.contains("trainer") && meta["trainer"].is_object() && meta["trainer"].contains("early_stopping"))
    train::load_best_weights(path, model.named_parameters());
  else
    ckpt::load<float>(path, model.named_parameters(), nullptr);
  // Training stops at the first non-finite loss; an evaluation would print
  // NaN metrics and exit 0.
  ckpt::check_finite(model.named_parameters(), path + " holds weights that cannot be evaluated");
}

Session::Session(const Frame& frame, Tape<float>& tape, Module<float>& model, Optimizer<float>& optimizer,
                 train::Options options, std::FILE* log)
    : frame_(frame),
      model_(model),
      optimizer_(optimizer),
      trainer_(tape, model.named_parameters(), optimizer, std::move(options), frame.flags().seed),
      log_(parallel::is_root() ? log : nullptr) {
  info_.batches_per_epoch = trainer_.options().batches_per_epoch;
  trainer_.options().log = log_;  // the evaluation lines go where the app logs
}

void Session::start() {
  const TrainingFlags& f = frame_.flags();
  if (f.eval_only)
    load_weights(f.load, model_);  // the weights alone
  else if (!f.load.empty())
    trainer_.resume(f.load);  // weights, optimizer state, position, generator
  // Under mpirun -np N each rank trains on its share of every batch; rank 0
  // alone logs, evaluates and saves (docs/distributed.md). Built after
  // resume(): it spreads rank 0's state.
  ddp_ = std::make_unique<parallel::DataParallel<float>>(trainer_, model_.named_parameters(), optimizer_);
  info_.first_step = info_.last_step = f.eval_only ? saved_step(frame_) : trainer_.step();
  info_.processes = ddp_->size();
}

void Session::say(const std::string& line) const {
  if (!log_) return;
  fmt::print(log_, "{}\n", line);
  std::fflush(log_);
}

void Session::print(const std::string& text) const {
  if (log_) fmt::print(log_, "{}", text);
}

std::string Session::loaded_from() const {
  const std::string& load = frame_.flags().load;
  return load.empty() ? "" : fmt::format(" (from {}, step {})", load, info_.first_step);
}

std::string Session::processes() const {
  return info_.processes > 1 ? fmt::format(" over {} processes", info_.processes) : "";
}

const RunInfo& Session::fit(const train::Trainer<float>::LossFn& loss,
                            const train::Trainer<float>::EvalFn& evaluate) {
  if (!ddp_) throw Error("Session::fit before start()");
  trainer_.fit(loss, evaluate);
  frame_.report().training(trainer_);
  info_.last_step = trainer_.step();
  info_.rows = trainer_.history();
  info_.train_seconds = trainer_.train_seconds();
  info_.train_cpu_seconds = trainer_.train_cpu_seconds();
  if (ddp_->size() > 1) say(ddp_->summary());
  return info_;
}

}  // namespace tg::app

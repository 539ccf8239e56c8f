#include <tapegrad/train/trainer.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/core.h>

#include <tapegrad/autograd/profiler.hpp>
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/atomic_file.hpp>

namespace tg::train {
namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

std::string rng_text(const Rng& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

std::size_t count_at(const Json& meta, const char* pointer, const std::string& path) {
  const Json& v = ckpt::at(meta, pointer, path);
  if (!v.is_number_unsigned())
    throw Error(path + ": checkpoint metadata '" + std::string(pointer + 1) + "' is " + v.dump() +
                ", not a non-negative integer");
  return v.get<std::size_t>();
}

}  // namespace

template <class T>
Trainer<T>::Trainer(Tape<T>& tape, std::vector<NamedParameter<T>> params, Optimizer<T>& optimizer,
                    Options options, std::uint64_t seed)
    : tape_(tape), params_(std::move(params)), optimizer_(optimizer), options_(std::move(options)),
      rng_(seed) {
  if (options_.batches_per_epoch == 0) throw Error("Trainer: batches_per_epoch is 0 (no data?)");
  if (options_.steps == 0 && options_.epochs == 0)
    throw Error("Trainer: set options.steps or options.epochs");
  if (!(options_.clip >= 0) || !std::isfinite(options_.clip))
    throw Error("Trainer: clip must be finite and >= 0, got " + std::to_string(options_.clip));
  if (options_.detect_anomaly) tape_.set_detect_anomaly(true);
  if (!options_.profile_csv.empty()) profiler::enable(true);
  // A parameter the optimizer updates but the Trainer does not name would
  // train and never be saved: a resumed run would restart it from scratch.
  for (std::size_t i = 0; i < optimizer_.params().size(); ++i) {
    const Var<T>& p = optimizer_.params()[i];
    bool named = false;
    for (const NamedParameter<T>& q : params_) named = named || q.var.node() == p.node();
    if (!named)
      throw Error("Trainer: the optimizer's parameter " + std::to_string(i) + " (shape " + shape_str(p.shape()) +
                  ") is not among the Trainer's named parameters, so checkpoints would not hold it: pass "
                  "model.named_parameters() of the model whose model.parameters() the optimizer updates");
  }
}

template <class T>
std::size_t Trainer<T>::total_steps() const {
  return options_.steps ? options_.steps : options_.epochs * options_.batches_per_epoch;
}

template <class T>
Json Trainer<T>::state_json() const {
  Json state = {{"step", step_}, {"batches_per_epoch", options_.batches_per_epoch}, {"rng", rng_text(rng_)}};
  if (stopper_) state["early_stopping"] = stopper_->json();
  if (scheduler_) state["schedule"] = schedule_json(every_, scheduler_->epoch());
  return state;
}

template <class T>
ckpt::SavedTensors<T> Trainer<T>::saved_extra() const {
  ckpt::SavedTensors<T> extra;
  for (std::size_t i = 0; i < best_weights_.size(); ++i)
    extra.emplace_back("model.best." + params_[i].name, &best_weights_[i]);
  for (const auto& [name, tensor] : kept_) extra.emplace_back(name, tensor);
  return extra;
}

template <class T>
ckpt::LoadedTensors<T> Trainer<T>::loaded_extra() {
  ckpt::LoadedTensors<T> extra;
  for (std::size_t i = 0; i < best_weights_.size(); ++i)
    extra.emplace_back("model.best." + params_[i].name, &best_weights_[i]);
  extra.insert(extra.end(), kept_.begin(), kept_.end());
  return extra;
}

template <class T>
void Trainer<T>::save(const std::string& path) const {
  Json meta = options_.meta;
  meta["trainer"] = state_json();
  ckpt::save(path, params_, &optimizer_, meta, saved_extra());
}

template <class T>
Json Trainer<T>::resume(const std::string& path) {
  const Json meta = ckpt::load(path, params_, &optimizer_, loaded_extra());
  step_ = count_at(meta, "/trainer/step", path);
  const std::size_t per_epoch = count_at(meta, "/trainer/batches_per_epoch", path);
  if (per_epoch != options_.batches_per_epoch)
    throw Error(path + ": saved with " + std::to_string(per_epoch) + " batches per epoch, this run has " +
                std::to_string(options_.batches_per_epoch) + " (other data or batch size?)");
  // Checkpoints are written at evaluations, where the loss sum restarts.
  loss_sum_ = 0;
  loss_count_ = 0;
  std::istringstream in(ckpt::at(meta, "/trainer/rng", path).get<std::string>());
  in >> rng_;
  if (!in) throw Error(path + ": checkpoint metadata 'trainer/rng' is not a generator state");
  resume_callbacks(meta, path);
  resumed_ = started_ = true;
  resumed_from_ = step_;
  // The resumed file is "the last checkpoint" only when this run saves to it.
  std::error_code ec;
  const bool saves_here = !options_.save.empty() && std::filesystem::equivalent(path, options_.save, ec);
  last_saved_step_ = saves_here ? step_ : 0;
  return meta;
}

template <class T>
void Trainer<T>::resume_callbacks(const Json& meta, const std::string& path) {
  if (stopper_) stopper_->restore(ckpt::at(meta, "/trainer/early_stopping", path), path);
  if (scheduler_)
    scheduler_->set_epoch(schedule_counter(ckpt::at(meta, "/trainer/schedule", path), every_, path));
  else if (meta.at("trainer").contains("schedule"))
    throw Error(path + ": the run had a learning-rate schedule (metadata 'trainer/schedule'): attach the "
                "same with trainer.schedule() before resume(), or the lr would differ");
}

template <class T>
void Trainer<T>::require_unstarted(const std::string& what) const {
  if (started_) throw Error("Trainer: " + what + " must be set before resume() and fit()");
}

template <class T>
void Trainer<T>::early_stopping(EarlyStopping es) {
  require_unstarted("early stopping");
  stopper_.emplace(std::move(es));
  best_weights_.clear();
  for (const auto& p : params_) best_weights_.push_back(p.var.value());
}

template <class T>
const Best& Trainer<T>::best() const {
  static const Best none;
  return stopper_ ? stopper_->best() : none;
}

template <class T>
void Trainer<T>::schedule(LRScheduler<T>& scheduler, Every every) {
  require_unstarted("a learning-rate schedule");
  scheduler_ = &scheduler;
  every_ = every;
}

template <class T>
void Trainer<T>::keep(const std::string& name, Tensor<T>& tensor) {
  require_unstarted("a kept tensor ('" + name + "')");
  if (name.empty()) throw Error("Trainer: keep() needs a name");
  for (const auto& [taken, t] : kept_)
    if (taken == "state." + name) throw Error("Trainer: keep(): the name '" + name + "' is taken");
  kept_.emplace_back("state." + name, &tensor);
}

template <class T>
std::string Trainer<T>::saved_so_far() const {
  if (options_.save.empty()) return "no checkpoint was asked for";
  if (last_saved_step_ == 0) return "no checkpoint was written yet";
  return fmt::format("the checkpoint of step {} is intact", last_saved_step_);
}

template <class T>
std::vector<Var<T>> Trainer<T>::gradient_vars() const {
  std::vector<Var<T>> vars;
  vars.reserve(params_.size());
  for (const auto& p : params_) vars.push_back(p.var);
  return vars;
}

template <class T>
bool Trainer<T>::evaluation_due(const Batch& b) const {
  if (b.step == total_steps()) return true;
  if (options_.eval_every) return b.step % options_.eval_every == 0;
  return b.index + 1 == options_.batches_per_epoch;
}

template <class T>
void Trainer<T>::log_row(const Row& row) {
  const Row previous = rows_.empty()
      ? Row{resumed_from_, resumed_from_ / options_.batches_per_epoch, 0, {}, 0, 0}
      : rows_.back();
  rows_.push_back(row);
  if (!options_.metrics.empty() && !csv_.enabled()) {
    std::vector<std::string> columns{"step", "epoch", "loss"};
    for (const auto& [name, value] : row.values) columns.push_back(name);
    columns.push_back("train_seconds");
    csv_ = MetricsCsv(options_.metrics, columns, resumed_, double(resumed_from_));
  }
  std::vector<double> values{double(row.step), double(row.epoch), row.loss};
  for (const auto& [name, value] : row.values) values.push_back(value);
  values.push_back(row.train_seconds);
  csv_.row(values);
  if (options_.log) {
    const std::string line = options_.log_line ? options_.log_line(row, previous) : default_line(row);
    if (!line.empty()) fmt::print(options_.log, "{}\n", line);
    std::fflush(options_.log);
  }
  if (on_evaluation) on_evaluation(row);
}

template <class T>
const std::vector<Row>& Trainer<T>::fit(const LossFn& loss_fn, const EvalFn& evaluate) {
  if (stopper_ && !evaluate)
    throw Error("Trainer: early stopping on '" + stopper_->settings().metric +
                "' needs an evaluation (fit's second argument)");
  started_ = true;
  const std::size_t end = total_steps(), first = step_;
  say_if_idle(end);
  Progress progress(end - std::min(step_, end), options_.unit);
  periodic_ = options_.progress && options_.progress_every > 0 && !progress.enabled();
  while (step_ < end && !stopped()) {
    const Batch b{step_ + 1, step_ / options_.batches_per_epoch, step_ % options_.batches_per_epoch};
    const double loss = train_step(loss_fn, b);
    after_step(b, loss, progress, first);
    if (evaluation_due(b)) {
      progress.finish();
      evaluate_at(b, evaluate);
    }
    if (b.index + 1 == options_.batches_per_epoch && on_epoch_end) on_epoch_end(b.epoch + 1);
  }
  progress.finish();
  finish_fit(first);
  return rows_;
}

template <class T>
void Trainer<T>::say_if_idle(std::size_t end) const {
  if (!options_.log) return;
  if (stopped())
    fmt::print(options_.log, "nothing to train: the run stopped early at step {} ({} evaluations without a "
               "better {})\n", step_, best().since, stopper_->settings().metric);
  else if (step_ >= end)
    fmt::print(options_.log, "nothing to train: the run is at step {} and ends at step {}\n", step_, end);
}

// Forward, backward, the finiteness checks, the gradient hook, clipping and
// the optimizer's step; the time it takes is training time.
template <class T>
double Trainer<T>::train_step(const LossFn& loss_fn, const Batch& b) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  double loss_value = 0;
  {
    Var<T> loss = loss_fn(b);
    loss_value = double(loss.item());
    check_loss(b, loss_value);
    tape_.backward(loss);
  }
  const std::vector<Var<T>> vars = gradient_vars();
  const double norm = grad_norm(vars);
  if (!std::isfinite(norm))
    throw TrainingError(fmt::format("step {}: the gradient norm is {}; training stopped ({})", b.step, norm,
                                    saved_so_far()));
  if (on_gradients) on_gradients(b);
  if (options_.clip > 0) clip(vars, norm);
  optimizer_.step();
  optimizer_.zero_grad();
  tape_.clear();
  train_seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
  train_cpu_seconds_ += cpu_seconds() - c0;
  return loss_value;
}

template <class T>
void Trainer<T>::check_loss(const Batch& b, double loss) const {
  if (!std::isfinite(loss))
    throw TrainingError(fmt::format("step {}: the loss is {}; training stopped ({})", b.step, loss,
                                    saved_so_far()));
  if (options_.max_loss > 0 && loss > options_.max_loss)
    throw TrainingError(fmt::format("step {}: the loss {:g} exceeds {:g}: training diverged; "
                                    "lower the learning rate ({})",
                                    b.step, loss, options_.max_loss, saved_so_far()));
}

template <class T>
void Trainer<T>::clip(const std::vector<Var<T>>& vars, double norm) {
  // `norm` is the clipping norm too unless a hook changed the gradients
  // (averaging) or the optimizer holds other parameters.
  const std::vector<Var<T>>& held = optimizer_.params();
  const bool same = !on_gradients && held.size() == vars.size() &&
                    std::equal(held.begin(), held.end(), vars.begin(),
                               [](const Var<T>& a, const Var<T>& b) { return a.node() == b.node(); });
  if (same)
    clip_grad_norm(held, T(options_.clip), norm);
  else
    clip_grad_norm(held, T(options_.clip));
}

// The bookkeeping of a step done: position, losses, the schedule, progress.
template <class T>
void Trainer<T>::after_step(const Batch& b, double loss, Progress& progress, std::size_t first) {
  const bool epoch_end = b.index + 1 == options_.batches_per_epoch;
  step_ = b.step;
  loss_sum_ += loss;
  ++loss_count_;
  if (b.index == 0) epoch_loss_sum_ = 0, epoch_loss_count_ = 0;
  epoch_loss_sum_ += loss;
  ++epoch_loss_count_;
  if (scheduler_ && (every_ == Every::Step || epoch_end)) scheduler_->step();
  if (options_.progress) progress.update(step_ - first, fmt::format("loss {:.4f}", loss));
  if (periodic_ && ((b.index + 1) % options_.progress_every == 0 || epoch_end)) {
    fmt::print(stderr, "  epoch {} batch {}/{}  loss {:.4f}\n", b.epoch + 1, b.index + 1,
               options_.batches_per_epoch, epoch_loss_sum_ / double(epoch_loss_count_));
    std::fflush(stderr);
  }
  if (on_step) on_step(b, loss);
}

// An evaluation point: the evaluation, early stopping, log, checkpoint. The
// row goes to the metrics CSV before the checkpoint is written: a run killed
// in between resumes from the previous checkpoint, which drops the rows after
// it and evaluates that step again, so no row is ever lost.
template <class T>
void Trainer<T>::evaluate_at(const Batch& b, const EvalFn& evaluate) {
  Row row{step_, b.epoch + 1, loss_count_ ? loss_sum_ / double(loss_count_) : 0.0, {}, 0, 0};
  if (evaluate) row.values = run_evaluation(evaluate, &row.eval_seconds);
  row.train_seconds = train_seconds_;
  loss_sum_ = 0;
  loss_count_ = 0;
  if (stopper_ && stopper_->observe(row.values, row.step, row.epoch))
    for (std::size_t i = 0; i < params_.size(); ++i) best_weights_[i] = params_[i].var.value();
  log_row(row);
  if (!options_.save.empty()) {
    save(options_.save);
    last_saved_step_ = step_;
  }
  if (stopped() && options_.log) {
    fmt::print(options_.log, "{}\n", stopper_->stop_line(step_));
    std::fflush(options_.log);
  }
}

template <class T>
Metrics Trainer<T>::run_evaluation(const EvalFn& evaluate, double* seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool profiling = profiler::enabled();  // the profile is of training steps
  profiler::enable(false);
  Metrics values;
  {
    auto no_grad = tape_.no_grad();
    values = evaluate();
  }
  tape_.clear();  // what the evaluation left
  profiler::enable(profiling);
  *seconds = seconds_since(t0);
  return values;
}

template <class T>
void Trainer<T>::finish_fit(std::size_t first) {
  if (stopper_ && stopper_->settings().restore_best && !std::isnan(best().value))
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i].var.value() = best_weights_[i];
  if (profiler::enabled() && options_.log)
    fmt::print(options_.log, "op profile of the training steps ({} steps):\n{}", step_ - first,
               profiler::table());
  if (!options_.profile_csv.empty()) io::write_file_atomic(options_.profile_csv, profiler::csv());
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace tg::train

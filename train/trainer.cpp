#include <tapegrad/train/trainer.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include <fmt/core.h>

#include <tapegrad/autograd/profiler.hpp>
#include <tapegrad/checkpoint/atomic_file.hpp>
#include <tapegrad/checkpoint/state.hpp>

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
  return {{"step", step_},
          {"batches_per_epoch", options_.batches_per_epoch},
          {"rng", rng_text(rng_)}};
}

template <class T>
void Trainer<T>::save(const std::string& path) const {
  Json meta = options_.meta;
  meta["trainer"] = state_json();
  ckpt::save(path, params_, &optimizer_, meta);
}

template <class T>
Json Trainer<T>::resume(const std::string& path) {
  const Json meta = ckpt::load(path, params_, &optimizer_);
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
  resumed_ = true;
  resumed_from_ = last_saved_step_ = step_;
  return meta;
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
  rows_.push_back(row);
  if (!options_.metrics.empty() && !csv_.enabled()) {
    std::vector<std::string> columns{"step", "epoch", "loss"};
    for (const auto& [name, value] : row.values) columns.push_back(name);
    columns.push_back("train_seconds");
    csv_ = MetricsCsv(options_.metrics, columns, resumed_, double(resumed_from_));
  }
  std::vector<double> values{double(row.step), double(row.epoch), row.loss};
  std::string line = fmt::format("step {:5d}  epoch {:2d}  loss {:.4f}", row.step, row.epoch, row.loss);
  for (const auto& [name, value] : row.values) {
    values.push_back(value);
    line += fmt::format("  {} {:.4f}", name, value);
  }
  values.push_back(row.train_seconds);
  csv_.row(values);
  if (options_.log) {
    fmt::print(options_.log, "{}  [train {:.1f} s]\n", line, row.train_seconds);
    std::fflush(options_.log);
  }
  if (on_evaluation) on_evaluation(row);
}

template <class T>
const std::vector<Row>& Trainer<T>::fit(const LossFn& loss_fn, const EvalFn& evaluate) {
  using Clock = std::chrono::steady_clock;
  const std::size_t end = total_steps();
  if (step_ >= end && options_.log)
    fmt::print(options_.log, "nothing to train: the run is at step {} and ends at step {}\n", step_, end);
  Progress progress(end - std::min(step_, end), options_.unit);
  const std::size_t first = step_;
  while (step_ < end) {
    const Batch b{step_ + 1, step_ / options_.batches_per_epoch, step_ % options_.batches_per_epoch};
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    double loss_value = 0;
    {
      Var<T> loss = loss_fn(b);
      loss_value = double(loss.item());
      if (!std::isfinite(loss_value))
        throw TrainingError(fmt::format("step {}: the loss is {}; training stopped ({})", b.step,
                                        loss_value, saved_so_far()));
      if (options_.max_loss > 0 && loss_value > options_.max_loss)
        throw TrainingError(fmt::format("step {}: the loss {:g} exceeds {:g}: training diverged; "
                                        "lower the learning rate ({})",
                                        b.step, loss_value, options_.max_loss, saved_so_far()));
      tape_.backward(loss);
    }
    const std::vector<Var<T>> vars = gradient_vars();
    const double norm = grad_norm(vars);
    if (!std::isfinite(norm))
      throw TrainingError(fmt::format("step {}: the gradient norm is {}; training stopped ({})",
                                      b.step, norm, saved_so_far()));
    if (on_gradients) on_gradients(b);
    if (options_.clip > 0) {
      // The norm above is the clipping norm too unless a hook changed the
      // gradients (averaging) or the optimizer holds other parameters.
      const std::vector<Var<T>>& held = optimizer_.params();
      const bool same = !on_gradients && held.size() == vars.size() &&
                        std::equal(held.begin(), held.end(), vars.begin(),
                                   [](const Var<T>& a, const Var<T>& b) { return a.node() == b.node(); });
      if (same)
        clip_grad_norm(held, T(options_.clip), norm);
      else
        clip_grad_norm(held, T(options_.clip));
    }
    optimizer_.step();
    optimizer_.zero_grad();
    tape_.clear();
    train_seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
    train_cpu_seconds_ += cpu_seconds() - c0;
    step_ = b.step;
    loss_sum_ += loss_value;
    ++loss_count_;
    if (options_.progress) progress.update(step_ - first, fmt::format("loss {:.4f}", loss_value));
    if (on_step) on_step(b, loss_value);

    if (evaluation_due(b)) {
      progress.finish();
      Row row{step_, b.epoch + 1, loss_count_ ? loss_sum_ / double(loss_count_) : 0.0, {}, 0};
      if (evaluate) {
        const bool profiling = profiler::enabled();  // the profile is of training steps
        profiler::enable(false);
        row.values = evaluate();
        profiler::enable(profiling);
      }
      row.train_seconds = train_seconds_;
      loss_sum_ = 0;
      loss_count_ = 0;
      if (!options_.save.empty()) {
        save(options_.save);
        last_saved_step_ = step_;
      }
      log_row(row);
    }
    if (b.index + 1 == options_.batches_per_epoch && on_epoch_end) on_epoch_end(b.epoch + 1);
  }
  progress.finish();
  if (profiler::enabled() && options_.log)
    fmt::print(options_.log, "op profile of the training steps ({} steps):\n{}", step_ - first,
               profiler::table());
  if (!options_.profile_csv.empty()) io::write_file_atomic(options_.profile_csv, profiler::csv());
  return rows_;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace tg::train

#include <tapegrad/train/callbacks.hpp>

#include <cmath>

#include <fmt/core.h>

#include <tapegrad/checkpoint/state.hpp>

namespace tg::train {
namespace {

const char* mode_name(EarlyStopping::Mode m) { return m == EarlyStopping::Mode::Max ? "max" : "min"; }
const char* every_name(Every e) { return e == Every::Step ? "step" : "epoch"; }

// A value of a metadata object, or tg::Error naming the file and the key.
const Json& field(const Json& saved, const char* key, const std::string& path, const char* where) {
  if (!saved.is_object() || !saved.contains(key))
    throw Error(path + ": checkpoint metadata '" + where + "' has no '" + key + "'");
  return saved[key];
}

std::size_t count(const Json& saved, const char* key, const std::string& path, const char* where) {
  const Json& v = field(saved, key, path, where);
  if (!v.is_number_unsigned())
    throw Error(path + ": checkpoint metadata '" + where + "/" + key + "' is " + v.dump() +
                ", not a non-negative integer");
  return v.get<std::size_t>();
}

}  // namespace

std::string default_line(const Row& row) {
  std::string line = fmt::format("step {:5d}  epoch {:2d}  loss {:.4f}", row.step, row.epoch, row.loss);
  for (const auto& [name, value] : row.values) line += fmt::format("  {} {:.4f}", name, value);
  return line + fmt::format("  [train {:.1f} s]", row.train_seconds);
}

Stopper::Stopper(EarlyStopping settings) : settings_(std::move(settings)) {
  if (settings_.metric.empty()) throw Error("early stopping: no metric named");
  if (!(settings_.min_delta >= 0) || !std::isfinite(settings_.min_delta))
    throw Error(fmt::format("early stopping: min_delta must be finite and >= 0, got {}", settings_.min_delta));
}

bool Stopper::observe(const Metrics& values, std::size_t step, std::size_t epoch) {
  auto it = std::find_if(values.begin(), values.end(),
                         [&](const auto& v) { return v.first == settings_.metric; });
  if (it == values.end()) {
    std::string names;
    for (const auto& v : values) names += (names.empty() ? "" : ", ") + v.first;
    throw Error("early stopping: the evaluation returns no metric '" + settings_.metric + "' (it returns " +
                (names.empty() ? "none" : names) + ")");
  }
  const double v = it->second, best = best_.value, delta = settings_.min_delta;
  const bool better = !std::isnan(v) && (std::isnan(best) || (settings_.mode == EarlyStopping::Mode::Max
                                                                   ? v > best + delta
                                                                   : v < best - delta));
  if (better)
    best_ = {v, step, epoch, 0, false};
  else
    ++best_.since;
  best_.stopped = settings_.patience > 0 && best_.since >= settings_.patience;
  return better;
}

Json Stopper::json() const {
  // JSON has no NaN: null stands for "no best yet".
  const Json value = std::isnan(best_.value) ? Json(nullptr) : Json(best_.value);
  return {{"metric", settings_.metric}, {"mode", mode_name(settings_.mode)}, {"best", value},
          {"step", best_.step},         {"epoch", best_.epoch},              {"evaluations_since", best_.since},
          {"stopped", best_.stopped}};
}

void Stopper::restore(const Json& saved, const std::string& path) {
  const char* where = "trainer/early_stopping";
  const Json& metric = field(saved, "metric", path, where);
  const Json& mode = field(saved, "mode", path, where);
  if (metric != settings_.metric || mode != mode_name(settings_.mode))
    throw Error(path + ": saved by a run stopping early on " + metric.dump() + " (" + mode.dump() +
                "), this run stops on \"" + settings_.metric + "\" (\"" + mode_name(settings_.mode) + "\")");
  const Json& value = field(saved, "best", path, where);
  const Json& stopped = field(saved, "stopped", path, where);
  if (!value.is_null() && !value.is_number())
    throw Error(path + ": checkpoint metadata '" + where + "/best' is " + value.dump() + ", not a number");
  if (!stopped.is_boolean())
    throw Error(path + ": checkpoint metadata '" + where + "/stopped' is " + stopped.dump() +
                ", not true or false");
  best_.value = value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
  best_.step = count(saved, "step", path, where);
  best_.epoch = count(saved, "epoch", path, where);
  best_.since = count(saved, "evaluations_since", path, where);
  best_.stopped = stopped.get<bool>();
}

std::string Stopper::stop_line(std::size_t step) const {
  return fmt::format("early stopping at step {}: {} evaluations without a better {}; its best, {:.4f}, was at "
                     "step {} (epoch {})",
                     step, best_.since, settings_.metric, best_.value, best_.step, best_.epoch);
}

Best saved_best(const Json& meta, const std::string& path) {
  const Json& saved = ckpt::at(meta, "/trainer/early_stopping", path);
  const Json& metric = field(saved, "metric", path, "trainer/early_stopping");
  const Json& mode = field(saved, "mode", path, "trainer/early_stopping");
  if (!metric.is_string() || (mode != "min" && mode != "max"))
    throw Error(path + ": checkpoint metadata 'trainer/early_stopping' names metric " + metric.dump() +
                " and mode " + mode.dump());
  Stopper stopper({metric.get<std::string>(), mode == "min" ? EarlyStopping::Mode::Min : EarlyStopping::Mode::Max});
  stopper.restore(saved, path);
  return stopper.best();
}

template <class T>
void load_best_weights(const std::string& path, const std::vector<NamedParameter<T>>& params) {
  // The current weights (model.*) land in scratch tensors; model.best.* in params.
  Tape<T> scratch;
  std::vector<NamedParameter<T>> current;
  std::vector<NamedParameter<T>> targets = params;  // handles: the same weights
  ckpt::LoadedTensors<T> best;
  for (NamedParameter<T>& p : targets) {
    current.push_back({p.name, scratch.constant(Tensor<T>::from_shape(p.var.shape()))});
    best.emplace_back("model.best." + p.name, &p.var.value());
  }
  ckpt::load<T>(path, current, nullptr, best);
}

template void load_best_weights<float>(const std::string&, const std::vector<NamedParameter<float>>&);
template void load_best_weights<double>(const std::string&, const std::vector<NamedParameter<double>>&);

Json schedule_json(Every every, std::size_t counter) {
  return {{"every", every_name(every)}, {"counter", counter}};
}

std::size_t schedule_counter(const Json& saved, Every every, const std::string& path) {
  const char* where = "trainer/schedule";
  const Json& e = field(saved, "every", path, where);
  if (e != every_name(every))
    throw Error(path + ": saved by a run stepping its learning-rate schedule every " + e.dump() +
                ", this run steps it every \"" + every_name(every) + "\"");
  return count(saved, "counter", path, where);
}

}  // namespace tg::train

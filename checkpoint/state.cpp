#include <tapegrad/checkpoint/state.hpp>

#include <cmath>
#include <map>
#include <set>

#include <tapegrad/io/json_depth.hpp>
#include <tapegrad/io/safetensors.hpp>

namespace tg::ckpt {
namespace {

// Optimizer::state() names per-parameter tensors "<key>.<index>" (index into
// params()); the file names them "<parameter name>.<key>" instead.
template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> named_optimizer_state(
    Optimizer<T>& optimizer, const std::vector<NamedParameter<T>>& params) {
  std::map<const void*, std::string> name_of;
  for (const auto& p : params) name_of[p.var.node().get()] = p.name;
  std::vector<std::pair<std::string, Tensor<T>*>> out;
  for (auto& [key, tensor] : optimizer.state()) {
    const auto dot = key.rfind('.');
    const std::string tail = dot == std::string::npos ? "" : key.substr(dot + 1);
    const bool indexed = !tail.empty() && tail.find_first_not_of("0123456789") == std::string::npos;
    if (!indexed) {
      out.emplace_back("optim." + key, tensor);
      continue;
    }
    const std::size_t i = std::stoul(tail);
    if (i >= optimizer.params().size())
      throw Error("checkpoint: optimizer state '" + key + "' names parameter " + tail + " of " +
                  std::to_string(optimizer.params().size()));
    auto it = name_of.find(optimizer.params()[i].node().get());
    if (it == name_of.end())
      throw Error("checkpoint: the optimizer's parameter " + tail +
                  " is not among the named parameters saved");
    out.emplace_back("optim." + it->second + "." + key.substr(0, dot), tensor);
  }
  return out;
}

// The "tapegrad" metadata value as JSON (discarded when it is not JSON).
// Nesting deeper than kMaxJsonDepth is refused: the apps copy and print
// these values, which recurses once per level.
Json parse_meta(const std::string& path, const std::string& text) {
  if (const std::size_t at = json_too_deep(text); at != std::string::npos)
    throw Error(path + ": its tapegrad metadata nests deeper than " + std::to_string(kMaxJsonDepth) +
                " levels (character " + std::to_string(at) + " of the value)");
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

template <class T>
void check_finite_tensor(const Tensor<T>& t, const std::string& name, const std::string& what,
                         const char* note = "the weights are no longer finite") {
  const T* v = t.data();
  for (std::size_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(v[i]))
      throw Error(what + ": " + name + " element " + std::to_string(i) + " is " + std::to_string(v[i]) +
                  " (" + note + ")");
}

// The file's tensors an evaluation load reads: the run's state (optim.*,
// state.*) only when asked for.
Checkpoint model_part(const Checkpoint& file, const std::set<std::string>& asked) {
  Checkpoint weights;
  weights.source = file.source;
  for (const auto& [name, entry] : file.tensors)
    if (asked.count(name) || (name.rfind("optim.", 0) != 0 && name.rfind("state.", 0) != 0))
      weights.tensors[name] = entry;
  return weights;
}

}  // namespace

template <class T>
void check_finite(const std::vector<NamedParameter<T>>& params, const std::string& what) {
  for (const auto& p : params) check_finite_tensor(p.var.value(), "parameter '" + p.name + "'", what);
}

template <class T>
void save(const std::string& path, const std::vector<NamedParameter<T>>& params,
          Optimizer<T>* optimizer, const Json& meta, const SavedTensors<T>& extra) {
  const std::string what = "refusing to save '" + path + "'";
  check_finite(params, what);
  for (const auto& [name, tensor] : extra)
    check_finite_tensor(*tensor, "tensor '" + name + "'", what, "not finite");
  Checkpoint file;
  file.metadata[kMetaKey] = meta.dump();
  for (const auto& p : params) put(file, "model." + p.name, p.var.value());
  if (optimizer)
    for (const auto& [name, tensor] : named_optimizer_state(*optimizer, params)) put(file, name, *tensor);
  for (const auto& [name, tensor] : extra) {
    if (file.tensors.count(name)) throw Error(what + ": the tensor name '" + name + "' is taken twice");
    put(file, name, *tensor);
  }
  save_safetensors(path, file);
}

Json read_meta(const std::string& path) {
  const Checkpoint file = load_safetensors(path);
  auto it = file.metadata.find(kMetaKey);
  if (it == file.metadata.end())
    throw Error(path + ": no tapegrad metadata (was it written by another program?)");
  Json meta = parse_meta(path, it->second);
  if (!meta.is_object()) throw Error(path + ": its tapegrad metadata is not a JSON object");
  return meta;
}

template <class T>
Json load(const std::string& path, const std::vector<NamedParameter<T>>& params,
          Optimizer<T>* optimizer, const LoadedTensors<T>& extra) {
  const Checkpoint file = load_safetensors(path);
  LoadedTensors<T> targets;
  for (auto p : params) targets.emplace_back("model." + p.name, &p.var.value());  // p: a handle
  if (optimizer)
    for (auto& entry : named_optimizer_state(*optimizer, params)) targets.push_back(entry);
  targets.insert(targets.end(), extra.begin(), extra.end());
  // Strict: every tensor of the file (of the model's part, in evaluation)
  // must find its place.
  if (!optimizer) {
    std::set<std::string> asked;
    for (const auto& entry : extra) asked.insert(entry.first);
    load_into(model_part(file, asked), targets, /*strict=*/true);
  } else {
    load_into(file, targets, /*strict=*/true);
  }
  auto it = file.metadata.find(kMetaKey);
  if (it == file.metadata.end()) return Json::object();
  Json meta = parse_meta(path, it->second);
  return meta.is_object() ? meta : Json::object();
}

const Json& at(const Json& meta, const std::string& pointer, const std::string& path) {
  const Json::json_pointer ptr(pointer);
  if (!meta.contains(ptr))
    throw Error(path + ": checkpoint metadata has no '" + pointer.substr(1) + "'");
  return meta.at(ptr);
}

template void save(const std::string&, const std::vector<NamedParameter<float>>&, Optimizer<float>*,
                   const Json&, const SavedTensors<float>&);
template void save(const std::string&, const std::vector<NamedParameter<double>>&,
                   Optimizer<double>*, const Json&, const SavedTensors<double>&);
template Json load(const std::string&, const std::vector<NamedParameter<float>>&, Optimizer<float>*,
                   const LoadedTensors<float>&);
template Json load(const std::string&, const std::vector<NamedParameter<double>>&, Optimizer<double>*,
                   const LoadedTensors<double>&);
template void check_finite(const std::vector<NamedParameter<float>>&, const std::string&);
template void check_finite(const std::vector<NamedParameter<double>>&, const std::string&);

}  // namespace tg::ckpt

#include "apps/common/model_io.hpp"

namespace tg::app {

template <class T>
void save_model(const std::string& path, const Module<T>& model, Optimizer<T>* optimizer,
                const std::map<std::string, std::string>& metadata) {
  Checkpoint ckpt;
  ckpt.metadata = metadata;
  for (const auto& p : model.named_parameters()) put(ckpt, "model." + p.name, p.var.value());
  if (optimizer)
    for (const auto& [name, tensor] : optimizer->state()) put(ckpt, "optim." + name, *tensor);
  save_safetensors(path, ckpt);
}

std::map<std::string, std::string> read_metadata(const std::string& path) {
  return load_safetensors(path).metadata;
}

template <class T>
std::map<std::string, std::string> load_model(const std::string& path, Module<T>& model,
                                              Optimizer<T>* optimizer) {
  const Checkpoint ckpt = load_safetensors(path);
  std::vector<std::pair<std::string, Tensor<T>*>> targets;
  for (auto& p : model.named_parameters()) targets.push_back({"model." + p.name, &p.var.value()});
  bool has_optim = false;
  for (const auto& entry : ckpt.tensors) has_optim = has_optim || entry.first.rfind("optim.", 0) == 0;
  if (optimizer && has_optim)
    for (auto& [name, tensor] : optimizer->state()) targets.push_back({"optim." + name, tensor});
  // Strict when everything in the file is being loaded; the optimizer state
  // may be left out when evaluating.
  load_into(ckpt, targets, /*strict=*/!has_optim || optimizer != nullptr);
  return ckpt.metadata;
}

std::string metadata_value(const std::map<std::string, std::string>& metadata,
                           const std::string& key, const std::string& path) {
  auto it = metadata.find(key);
  if (it == metadata.end())
    throw Error(path + ": checkpoint metadata has no '" + key +
                "' (was it written by another program?)");
  return it->second;
}

template void save_model(const std::string&, const Module<float>&, Optimizer<float>*,
                         const std::map<std::string, std::string>&);
template std::map<std::string, std::string> load_model(const std::string&, Module<float>&,
                                                       Optimizer<float>*);

}  // namespace tg::app

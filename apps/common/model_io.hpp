// Saving and loading a model (and optionally its optimizer) as one
// safetensors checkpoint: tensors "model.<parameter name>" and
// "optim.<state name>", plus string metadata (the app's configuration, so a
// checkpoint can rebuild its model).
#pragma once

#include <map>
#include <string>

#include "layers/module.hpp"
#include "checkpoint/safetensors.hpp"
#include "optim/optimizer.hpp"

namespace tg::app {

template <class T>
void save_model(const std::string& path, const Module<T>& model, Optimizer<T>* optimizer,
                const std::map<std::string, std::string>& metadata);

// Reads the checkpoint's metadata only, to rebuild the model before loading.
std::map<std::string, std::string> read_metadata(const std::string& path);

// Loads every parameter of `model` (names and shapes must match exactly, or
// nothing is changed and tg::Error lists what differs) and, when `optimizer`
// is given and the file has optimizer state, that too. Returns the metadata.
template <class T>
std::map<std::string, std::string> load_model(const std::string& path, Module<T>& model,
                                              Optimizer<T>* optimizer);

// The model alone (evaluation): optimizer state in the file is ignored.
template <class T>
std::map<std::string, std::string> load_model(const std::string& path, Module<T>& model) {
  return load_model<T>(path, model, static_cast<Optimizer<T>*>(nullptr));
}

// A metadata value, or an error naming the checkpoint and the key.
std::string metadata_value(const std::map<std::string, std::string>& metadata,
                           const std::string& key, const std::string& path);

}  // namespace tg::app

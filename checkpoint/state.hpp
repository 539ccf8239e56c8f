// A training run's checkpoint, in one safetensors file:
//
//   model.<parameter name>              the weights (e.g. model.rnn.l0.fwd.weight_ih)
//   optim.<key>                         optimizer counters (optim.adam.t)
//   optim.<parameter name>.<key>        per-parameter state (optim.head.weight.adam.m)
//   model.best.<parameter name>         the best weights so far (early stopping)
//   state.<name>                        tensors a run carries (an LM's hidden state)
//   metadata "tapegrad": one JSON value {"app": ..., "config": {...},
//                                        "trainer": {...}, "version": ...}
//
// Optimizer state is keyed by the parameter's name, not its position, so a
// model whose parameters are listed in another order still pairs every
// moment with its own weight. Non-finite weights are never written: a save
// that finds one throws and leaves the file on disk as it was.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <tapegrad/autograd/named_parameter.hpp>
#include <tapegrad/optim/optimizer.hpp>

namespace tg::ckpt {

using Json = nlohmann::json;

// The metadata key under which the JSON value is stored.
inline constexpr const char* kMetaKey = "tapegrad";

// More tensors of a run, under their full names in the file
// ("model.best.head.weight", "state.hidden"): the Trainer's callbacks keep
// theirs here (train/callbacks.hpp).
template <class T>
using SavedTensors = std::vector<std::pair<std::string, const Tensor<T>*>>;
template <class T>
using LoadedTensors = std::vector<std::pair<std::string, Tensor<T>*>>;

// Writes params (and the optimizer's state, when given, and `extra`) with
// `meta`, atomically. Throws tg::Error naming the first non-finite element,
// or an extra name taken twice, before anything is written.
template <class T>
void save(const std::string& path, const std::vector<NamedParameter<T>>& params,
          Optimizer<T>* optimizer, const Json& meta, const SavedTensors<T>& extra = {});

// The JSON metadata of a checkpoint (the whole file is validated). Throws
// tg::Error naming the file when it has none or it is not a JSON object.
Json read_meta(const std::string& path);

// Loads every parameter and `extra` tensor (names and shapes must match
// exactly, or nothing is changed and tg::Error names the file, the tensor
// and both shapes, or lists the names that differ) and, when `optimizer` is
// given, its state (which the file must then hold). Without an optimizer
// (evaluation) the run's state in the file, optim.* and state.*, is ignored
// unless `extra` asks for it. Returns the metadata.
template <class T>
Json load(const std::string& path, const std::vector<NamedParameter<T>>& params,
          Optimizer<T>* optimizer, const LoadedTensors<T>& extra = {});

// A value of the metadata at a JSON pointer ("/config/hidden"), or tg::Error
// naming the file and the key.
const Json& at(const Json& meta, const std::string& pointer, const std::string& path);

// Throws tg::Error naming the parameter and element when a value is NaN/Inf.
template <class T>
void check_finite(const std::vector<NamedParameter<T>>& params, const std::string& what);

}  // namespace tg::ckpt

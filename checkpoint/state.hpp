// A training run's checkpoint, in one safetensors file:
//
//   model.<parameter name>              the weights (e.g. model.rnn.l0.fwd.weight_ih)
//   optim.<key>                         optimizer counters (optim.adam.t)
//   optim.<parameter name>.<key>        per-parameter state (optim.head.weight.adam.m)
//   metadata "tapegrad": one JSON value {"app": ..., "config": {...},
//                                        "trainer": {...}, "version": ...}
//
// Optimizer state is keyed by the parameter's name, not its position, so a
// model whose parameters are listed in another order still pairs every
// moment with its own weight. Non-finite weights are never written: a save
// that finds one throws and leaves the file on disk as it was.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <tapegrad/layers/module.hpp>
#include <tapegrad/optim/optimizer.hpp>

namespace tg::ckpt {

using Json = nlohmann::json;

// The metadata key under which the JSON value is stored.
inline constexpr const char* kMetaKey = "tapegrad";

// Writes params (and the optimizer's state, when given) with `meta`,
// atomically. Throws tg::Error naming the first non-finite parameter element,
// before anything is written.
template <class T>
void save(const std::string& path, const std::vector<NamedParameter<T>>& params,
          Optimizer<T>* optimizer, const Json& meta);

// The JSON metadata of a checkpoint (the whole file is validated). Throws
// tg::Error naming the file when it has none or it is not a JSON object.
Json read_meta(const std::string& path);

// Loads every parameter (names and shapes must match exactly, or nothing is
// changed and tg::Error lists what differs) and, when `optimizer` is given,
// its state (which the file must then hold). Returns the metadata.
template <class T>
Json load(const std::string& path, const std::vector<NamedParameter<T>>& params,
          Optimizer<T>* optimizer);

// A value of the metadata at a JSON pointer ("/config/hidden"), or tg::Error
// naming the file and the key.
const Json& at(const Json& meta, const std::string& pointer, const std::string& path);

// Throws tg::Error naming the parameter and element when a value is NaN/Inf.
template <class T>
void check_finite(const std::vector<NamedParameter<T>>& params, const std::string& what);

}  // namespace tg::ckpt

// The best-on-valid selection of slot_filling: the weights of the best valid
// F1 so far and where it was reached, both in the checkpoint (the weights as
// tensors "model.best.<name>", the rest in the "slot_filling" metadata), and
// the stop of --patience. Kept apart from the run so that the Trainer's early
// stopping can take its place whole (issue 23).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/slot_filling/slot_model.hpp"

namespace tg::slotapp {

// This app's part of the checkpoint metadata.
constexpr const char* kMetaKey = "slot_filling";

// The weights of the best valid F1 so far, kept beside the tagger's as tape
// constants (no gradient, not optimized). Listed after the tagger's own
// parameters, as "best.<name>", they go into the Trainer's checkpoint.
class BestWeights {
 public:
  explicit BestWeights(const Tagger& tagger);  // starts as a copy of its weights
  void keep(const Tagger& tagger);             // the tagger's weights -> these
  void restore(Tagger& tagger) const;          // these -> the tagger's weights
  // The tagger's parameters, then these as "best.<name>".
  std::vector<NamedParameter<float>> with(const Tagger& tagger) const;

 private:
  std::vector<NamedParameter<float>> copies_;
};

// The best-on-valid selection so far: saved in the checkpoint's metadata
// (slot_filling/best), its weights as model.best.* tensors.
struct Selection {
  double f1 = -1;
  std::size_t epoch = 0, step = 0, since = 0;  // since: evaluations without a better F1

  nlohmann::json json() const;
  // The selection a checkpoint recorded; a tg::Error naming `path` and the
  // key when it is missing or not a number.
  static Selection from(const nlohmann::json& meta, const std::string& path);
};

// Thrown by the evaluation hook when --patience runs out (after the
// Trainer wrote that evaluation's checkpoint).
struct StopEarly {};

}  // namespace tg::slotapp

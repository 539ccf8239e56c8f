#include "apps/slot_filling/best_weights.hpp"

#include <tapegrad/checkpoint/state.hpp>

namespace tg::slotapp {

BestWeights::BestWeights(const Tagger& tagger) {
  for (const auto& p : tagger.named_parameters())
    copies_.push_back({"best." + p.name, tagger.tape.constant(p.var.value())});
}

void BestWeights::keep(const Tagger& tagger) {
  const auto params = tagger.named_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) copies_[i].var.value() = params[i].var.value();
}

void BestWeights::restore(Tagger& tagger) const {
  auto params = tagger.named_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.value() = copies_[i].var.value();
}

std::vector<NamedParameter<float>> BestWeights::with(const Tagger& tagger) const {
  std::vector<NamedParameter<float>> all = tagger.named_parameters();
  all.insert(all.end(), copies_.begin(), copies_.end());
  return all;
}

nlohmann::json Selection::json() const {
  return {{"valid_f1", f1}, {"epoch", epoch}, {"step", step}, {"evaluations_since", since}};
}

Selection Selection::from(const nlohmann::json& meta, const std::string& path) {
  const nlohmann::json& b = ckpt::at(meta, std::string("/") + kMetaKey + "/best", path);
  auto count = [&](const char* key) {
    if (!b.contains(key) || !b[key].is_number_unsigned())
      throw Error(path + ": checkpoint metadata '" + kMetaKey + "/best/" + key + "' is not a count");
    return b[key].get<std::size_t>();
  };
  if (!b.contains("valid_f1") || !b["valid_f1"].is_number())
    throw Error(path + ": checkpoint metadata '" + kMetaKey + "/best/valid_f1' is not a number");
  return {b["valid_f1"].get<double>(), count("epoch"), count("step"), count("evaluations_since")};
}

}  // namespace tg::slotapp

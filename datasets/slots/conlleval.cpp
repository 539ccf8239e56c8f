#include <tapegrad/datasets/slots/conlleval.hpp>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/slots/chunks.hpp>

namespace tg::slots {

namespace {
double ratio(std::size_t a, std::size_t b) { return b ? static_cast<double>(a) / b : 0.0; }
}  // namespace

double ChunkCounts::precision() const { return ratio(correct, predicted); }
double ChunkCounts::recall() const { return ratio(correct, gold); }
double ChunkCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}
double ChunkCounts::accuracy() const { return ratio(correct_tokens, tokens); }

void ChunkScorer::add(const std::vector<std::string>& gold, const std::vector<std::string>& predicted) {
  if (gold.size() != predicted.size())
    throw Error("slots: ChunkScorer::add: " + std::to_string(gold.size()) + " gold tags but " +
                std::to_string(predicted.size()) + " predicted");
  const std::vector<Chunk> g = chunks(gold), p = chunks(predicted);
  for (const Chunk& c : g) ++by_type_[c.type].gold;
  for (const Chunk& c : p) ++by_type_[c.type].predicted;
  // chunks() returns each list in sentence order, which is Chunk::operator<
  // order, so a sorted intersection finds the exact matches.
  std::vector<Chunk> both;
  std::set_intersection(g.begin(), g.end(), p.begin(), p.end(), std::back_inserter(both));
  for (const Chunk& c : both) ++by_type_[c.type].correct;

  total_.gold += g.size();
  total_.predicted += p.size();
  total_.correct += both.size();
  total_.tokens += gold.size();
  for (std::size_t i = 0; i < gold.size(); ++i) total_.correct_tokens += gold[i] == predicted[i];
}

std::string ChunkScorer::summary() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "tokens %zu, chunks gold %zu predicted %zu correct %zu; accuracy %.2f, "
                "precision %.2f, recall %.2f, F1 %.2f",
                total_.tokens, total_.gold, total_.predicted, total_.correct, 100 * total_.accuracy(),
                100 * total_.precision(), 100 * total_.recall(), 100 * total_.f1());
  return buf;
}

}  // namespace tg::slots

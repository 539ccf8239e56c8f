// Slot-filling scores as the CoNLL-2000 conlleval script computes them:
//   precision = correct chunks / predicted chunks
//   recall    = correct chunks / gold chunks
//   F1        = 2 P R / (P + R)
//   accuracy  = tokens whose predicted tag equals the gold tag / tokens
// A predicted chunk is correct only when a gold chunk has its type and both
// of its ends (chunk rules in chunks.hpp). As in conlleval, a ratio whose
// denominator is 0 is reported as 0 (so all-O gold and all-O prediction give
// P = R = F1 = 0 with accuracy 1).
// Sentences are given at their real length: padding never reaches here.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace tg::slots {

struct ChunkCounts {
  std::size_t gold = 0, predicted = 0, correct = 0;  // chunks
  std::size_t tokens = 0, correct_tokens = 0;        // tags

  double precision() const;
  double recall() const;
  double f1() const;
  double accuracy() const;
};

class ChunkScorer {
 public:
  // One sentence. tg::Error if the lengths differ or a tag is not BIO.
  void add(const std::vector<std::string>& gold, const std::vector<std::string>& predicted);

  const ChunkCounts& total() const { return total_; }
  // Per slot type (chunk counts only; token counts stay in total()).
  const std::map<std::string, ChunkCounts>& by_type() const { return by_type_; }

  // conlleval-style summary, figures in percent:
  // "tokens 9, chunks gold 2 predicted 2 correct 2; accuracy 100.00, precision 100.00, recall 100.00, F1 100.00"
  std::string summary() const;

 private:
  ChunkCounts total_;
  std::map<std::string, ChunkCounts> by_type_;
};

}  // namespace tg::slots

// Word and tag ids for a tagger, built from the train split only.
//
// Words: id 0 = padding, 1 = unknown, then the train words seen at least
// min_count times, most frequent first (ties: bytes ascending). Lookup
// lowercases, so "Taipei" finds "taipei". Rare words cut by min_count, and
// word_dropout (batch.hpp), teach the model what to do with id 1.
//
// Tags: id 0 = "O", then the train tags sorted by type then B before I.
// A tag of valid/test that train never showed cannot be predicted; encode()
// maps it to O for the loss and counts it (warning()). Scores must still be
// computed against the original tag strings, so those misses count.
//
// Both save to text files (one entry a line, after a header line), written
// to a temporary file then renamed, so a crash never leaves half a file next
// to a checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <tapegrad/datasets/slots/utterance.hpp>

namespace tg::slots {

class Vocab {
 public:
  static constexpr std::int64_t kPad = 0, kUnk = 1;

  static Vocab build(const std::vector<Utterance>& train, std::size_t min_count = 1);

  std::int64_t id(const std::string& word) const;  // kUnk when absent
  const std::string& word(std::int64_t id) const;  // "<pad>", "<unk>", ...
  std::size_t size() const { return words_.size(); }
  std::vector<std::int64_t> encode(const std::vector<std::string>& words) const;

  void save(const std::string& path) const;
  static Vocab load(const std::string& path);

 private:
  void add(const std::string& word);
  std::vector<std::string> words_;
  std::unordered_map<std::string, std::int64_t> ids_;
};

class TagSet {
 public:
  static TagSet build(const std::vector<Utterance>& train);

  std::int64_t find(const std::string& tag) const;  // -1 when not in the set
  const std::string& tag(std::int64_t id) const;
  std::size_t size() const { return tags_.size(); }

  void save(const std::string& path) const;
  static TagSet load(const std::string& path);

 private:
  void add(const std::string& tag);
  std::vector<std::string> tags_;
  std::unordered_map<std::string, std::int64_t> ids_;
};

// A sentence of an EncodedSplit: references into it, no copy.
struct EncodedSentence {
  const std::vector<std::int64_t>& words;
  const std::vector<std::int64_t>& tags;
};

// One split as ids, ready for batching: a dataset for data::Loader
// (size(), get(i)), batched by make_batch (batch.hpp: SentenceLoader).
struct EncodedSplit {
  std::vector<std::vector<std::int64_t>> words, tags;
  std::map<std::string, std::size_t> unseen_tags;  // tag -> occurrences mapped to O
  std::size_t unknown_words = 0;                   // tokens that became kUnk

  std::size_t size() const { return words.size(); }
  EncodedSentence get(std::size_t i) const;  // tg::Error naming i when out of range
  // Words per sentence: the loader's lengths for bucket_pool.
  std::vector<std::size_t> lengths() const;

  std::size_t unseen_tag_count() const;
  // "slots: warning: test: 6 token(s) carry a tag not seen in train
  // (6 distinct), mapped to O: B-booking_class (1) ..." or "" when none.
  std::string warning(const std::string& split_name) const;
};

EncodedSplit encode(const std::vector<Utterance>& split, const Vocab& vocab, const TagSet& tags);

}  // namespace tg::slots

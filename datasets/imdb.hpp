// IMDB sentiment data exactly as docs/protocols.md section 4 fixes it.
//
// reviews.json: one JSON array of 50,000 objects {"t": text, "s": 0|1}.
// Split by index parity: train = even indices, test = odd.
// Tokens: lowercase (ASCII), then every literal "<br />" becomes a space,
// then the maximal runs of [a-z0-9'] are the tokens; any other byte
// separates them ("don't" is one token, "café" gives "caf").
// Vocabulary (train split only): the `vocab_tokens` most frequent tokens,
// ties broken by the token's bytes ascending, get ids 2, 3, ...;
// id 0 = padding, id 1 = out of vocabulary.
// Encoding: the LAST maxlen tokens (OOV included, as id 1), left-padded
// with 0 to maxlen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/loader.hpp>

namespace tg::data {

// Lowercased text with each "<br />" replaced by a space.
std::string normalize_review(std::string_view text);

inline bool is_token_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'';
}

// Calls f(std::string_view) for each maximal run of [a-z0-9'] in an already
// normalized text, without allocating.
template <class F>
void for_each_token(std::string_view normalized, F&& f) {
  const std::size_t n = normalized.size();
  for (std::size_t i = 0; i < n;) {
    if (!is_token_byte(normalized[i])) { ++i; continue; }
    std::size_t j = i;
    while (j < n && is_token_byte(normalized[j])) ++j;
    f(normalized.substr(i, j - i));
    i = j;
  }
}
// The tokens of a raw review (normalize_review applied).
std::vector<std::string> tokenize(std::string_view text);

class Vocab {
 public:
  static constexpr std::int32_t kPad = 0;
  static constexpr std::int32_t kOov = 1;

  Vocab() = default;
  // tokens[i] gets id i + 2. Throws tg::Error on an empty, malformed
  // (not [a-z0-9']+) or repeated token.
  explicit Vocab(std::vector<std::string> tokens);
  // The `max_tokens` most frequent tokens of `texts` (ties: bytes ascending).
  static Vocab build(const std::vector<std::string>& texts, std::size_t max_tokens);
  // The same ranking from (token, count) pairs; pairs with count 0 are dropped.
  static Vocab from_counts(std::vector<std::pair<std::string_view, std::size_t>> counts,
                           std::size_t max_tokens);

  std::int32_t id(const std::string& token) const;  // kOov when absent
  const std::string& token(std::int32_t id) const;  // "<pad>", "<unk>" for 0, 1
  std::size_t size() const { return tokens_.size() + 2; }  // embedding rows: 20,002
  const std::vector<std::string>& tokens() const { return tokens_; }  // ids 2..

  // Plain text, one entry per line in id order: "<pad>", "<unk>", then the
  // tokens (line k holds id k-1): what save() writes (e.g. to hash it).
  std::string text() const;
  // text() to `file`, through io::write_file_atomic.
  void save(const std::filesystem::path& file) const;
  // Checks the two markers, every token, duplicates and the final newline;
  // errors name the file and line.
  static Vocab load(const std::filesystem::path& file);

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int32_t> ids_;
};

struct ImdbOptions {
  std::size_t vocab_tokens = 20000;  // --vocab
  std::size_t maxlen = 200;
  bool keep_text = false;  // also keep every raw review in ImdbSplit::texts
};

// One review of a split: a view into it, no copy.
struct ImdbReview {
  Span<std::int32_t> tokens;  // its real tokens (at most maxlen), without the padding
  float label;                // 0 negative, 1 positive
};

// A dataset for data::Loader (size(), get(i)), batched by imdb_batch.
struct ImdbSplit {
  std::size_t maxlen = 0;
  std::vector<std::int32_t> ids;  // size() x maxlen, row-major, left-padded
  std::vector<int> lengths;       // real tokens per review, <= maxlen
  std::vector<float> labels;      // 0 negative, 1 positive
  std::vector<std::string> texts; // raw reviews, only with keep_text
  std::size_t size() const { return labels.size(); }
  ImdbReview get(std::size_t i) const;  // tg::Error naming i when out of range
};

struct Imdb {
  Vocab vocab;
  ImdbSplit train;  // even indices of reviews.json
  ImdbSplit test;   // odd indices
  std::size_t distinct_train_tokens = 0;  // 89,705 on the real data
  std::string first_train_text;           // review 0, printed by the app
};

struct ImdbBatch {
  Tensor<std::int64_t> ids;  // (maxlen time, B), left-padded with 0
  std::vector<int> lengths;  // B real-token counts, for masking
  Tensor<float> labels;      // (B,) 0/1
};

// Calls f(index, text, label) for each record of reviews.json, streaming
// (SAX). A malformed file, a record that is not an object or lacks "t"/"s",
// or a label other than 0/1 throws tg::Error naming the file and record index.
void for_each_review(const std::filesystem::path& file,
                     const std::function<void(std::size_t index, std::string& text, int label)>& f);

// Parses, splits, builds the vocabulary and encodes, in one pass over the file.
// Throws tg::Error naming the file when a split is empty or when the training
// split holds no token at all (e.g. every text "").
Imdb load_imdb(const std::filesystem::path& reviews_json, const ImdbOptions& opt = {});
// The app entry point: `data_dir` is the --data flag (empty: the cache).
Imdb fetch_imdb(const std::filesystem::path& data_dir = {}, const ImdbOptions& opt = {});

// Encodes texts with a given vocabulary (e.g. a saved model classifying new
// reviews); labels may be empty (then all 0).
ImdbSplit encode_texts(const std::vector<std::string>& texts, const std::vector<float>& labels,
                       const Vocab& vocab, std::size_t maxlen);

// Reviews `idx` of a split as a time-major batch: the collate of
// ImdbLoader. (pad_sequences with Pad::Left and length maxlen over
// get(i).tokens gives the same ids; this reads the stored rows directly.)
ImdbBatch imdb_batch(const ImdbSplit& split, const std::vector<std::size_t>& idx);
// A split's batches; with shuffle, EpochSampler's order (what imdb_lstm trains on):
//   data::LoaderOptions o;  o.batch = 64;  o.seed = seed;
//   ImdbLoader loader(imdb.train, o, imdb_batch);   loader.at(epoch, index)
using ImdbLoader = Loader<ImdbSplit, decltype(&imdb_batch)>;
// Reviews begin .. begin+count-1 in order (clipped), for evaluation.
ImdbBatch imdb_range(const ImdbSplit& split, std::size_t begin, std::size_t count);

}  // namespace tg::data

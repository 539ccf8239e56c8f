// IMDB loading, encoding and batching (see imdb.hpp for the protocol).
#include "datasets/imdb.hpp"

#include <algorithm>
#include <deque>

#include "datasets/fetch.hpp"

namespace tg::data {
namespace {

// Appends one review: its last maxlen ids, left-padded with 0.
void append_review(ImdbSplit& s, const std::vector<std::int32_t>& seq, float label) {
  const std::size_t start = seq.size() > s.maxlen ? seq.size() - s.maxlen : 0;
  const std::size_t len = seq.size() - start;
  s.ids.insert(s.ids.end(), s.maxlen - len, Vocab::kPad);
  s.ids.insert(s.ids.end(), seq.begin() + std::ptrdiff_t(start), seq.end());
  s.lengths.push_back(int(len));
  s.labels.push_back(label);
}

// Every distinct token of the file gets a provisional id the first time it
// is seen (train and test alike); counts are kept for train only. Reviews
// are stored with provisional ids and renumbered once the vocabulary is
// known, so the file is read once and its text is not kept.
struct Interner {
  std::deque<std::string> store;  // deque: the strings never move, so the views stay valid
  std::unordered_map<std::string_view, std::int32_t> ids;
  std::vector<std::size_t> train_count;

  // Provisional ids start at 2 so that 0 can stay padding while renumbering.
  std::int32_t intern(std::string_view t, bool train) {
    auto it = ids.find(t);
    std::int32_t id;
    if (it != ids.end()) {
      id = it->second;
    } else {
      id = std::int32_t(store.size()) + 2;
      store.emplace_back(t);
      ids.emplace(store.back(), id);
      train_count.push_back(0);
    }
    if (train) ++train_count[std::size_t(id) - 2];
    return id;
  }
};

}  // namespace

Imdb load_imdb(const std::filesystem::path& reviews_json, const ImdbOptions& opt) {
  if (opt.maxlen == 0) throw Error("load_imdb: maxlen must be at least 1");
  Imdb out;
  out.train.maxlen = out.test.maxlen = opt.maxlen;
  Interner in;
  std::vector<std::int32_t> seq;
  for_each_review(reviews_json, [&](std::size_t i, std::string& text, int label) {
    const bool train = i % 2 == 0;
    seq.clear();
    for_each_token(normalize_review(text), [&](std::string_view t) { seq.push_back(in.intern(t, train)); });
    ImdbSplit& split = train ? out.train : out.test;
    append_review(split, seq, float(label));
    if (i == 0) out.first_train_text = text;
    if (opt.keep_text) split.texts.push_back(std::move(text));
  });
  if (out.train.size() == 0 || out.test.size() == 0)
    throw Error(reviews_json.string() + ": needs at least two reviews (one train, one test), has " +
                std::to_string(out.train.size() + out.test.size()));

  std::vector<std::pair<std::string_view, std::size_t>> counts;
  counts.reserve(in.store.size());
  for (std::size_t k = 0; k < in.store.size(); ++k) {
    counts.emplace_back(in.store[k], in.train_count[k]);
    out.distinct_train_tokens += in.train_count[k] > 0;
  }
  out.vocab = Vocab::from_counts(std::move(counts), opt.vocab_tokens);

  std::vector<std::int32_t> renumber(in.store.size() + 2, Vocab::kOov);
  renumber[Vocab::kPad] = Vocab::kPad;
  for (std::size_t k = 0; k < in.store.size(); ++k) renumber[k + 2] = out.vocab.id(in.store[k]);
  for (ImdbSplit* s : {&out.train, &out.test})
    for (auto& id : s->ids) id = renumber[std::size_t(id)];
  return out;
}

Imdb fetch_imdb(const std::filesystem::path& data_dir, const ImdbOptions& opt) {
  return load_imdb(ensure_files(imdb_package(), data_dir).at(0), opt);
}

ImdbSplit encode_texts(const std::vector<std::string>& texts, const std::vector<float>& labels,
                       const Vocab& vocab, std::size_t maxlen) {
  if (!labels.empty() && labels.size() != texts.size())
    throw Error("encode_texts: " + std::to_string(texts.size()) + " texts but " +
                std::to_string(labels.size()) + " labels");
  if (maxlen == 0) throw Error("encode_texts: maxlen must be at least 1");
  ImdbSplit s;
  s.maxlen = maxlen;
  std::vector<std::int32_t> seq;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    seq.clear();
    for_each_token(normalize_review(texts[i]), [&](std::string_view t) { seq.push_back(vocab.id(std::string(t))); });
    append_review(s, seq, labels.empty() ? 0.0f : labels[i]);
  }
  return s;
}

ImdbBatch imdb_batch(const ImdbSplit& split, const std::vector<std::size_t>& idx) {
  const std::size_t T = split.maxlen, B = idx.size();
  ImdbBatch out{Tensor<std::int64_t>::from_shape({T, B}), std::vector<int>(B),
                Tensor<float>::from_shape({B})};
  std::int64_t* x = out.ids.data();
  for (std::size_t b = 0; b < B; ++b) {
    if (idx[b] >= split.size())
      throw Error("imdb_batch: review index " + std::to_string(idx[b]) + " out of range (split has " +
                  std::to_string(split.size()) + ")");
    const std::int32_t* row = split.ids.data() + idx[b] * T;
    for (std::size_t t = 0; t < T; ++t) x[t * B + b] = row[t];  // time-major
    out.lengths[b] = split.lengths[idx[b]];
    out.labels(b) = split.labels[idx[b]];
  }
  return out;
}

ImdbBatch imdb_range(const ImdbSplit& split, std::size_t begin, std::size_t count) {
  std::vector<std::size_t> idx;
  for (std::size_t i = begin; i < std::min(split.size(), begin + count); ++i) idx.push_back(i);
  return imdb_batch(split, idx);
}

ImdbBatcher::ImdbBatcher(const ImdbSplit& split, std::size_t batch, std::uint64_t seed)
    : split_(&split), sampler_(split.size(), batch, seed) {}

ImdbBatch ImdbBatcher::next() { return imdb_batch(*split_, sampler_.next()); }

}  // namespace tg::data

// IMDB loading, encoding and batching (see imdb.hpp for the protocol).
#include <tapegrad/datasets/imdb.hpp>

#include <algorithm>

#include <tapegrad/datasets/fetch.hpp>

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
//
// An open-addressing table over one byte arena: 11.5 million lookups, and
// std::unordered_map's node chasing made them two thirds of the load time.
class Interner {
 public:
  Interner() : slots_(1 << 18, kEmpty) {}

  // Provisional ids start at 2 so that 0 can stay padding while renumbering.
  std::int32_t intern(std::string_view t, bool train) {
    const std::uint64_t h = hash(t);
    std::size_t mask = slots_.size() - 1, s = std::size_t(h) & mask;
    for (; slots_[s] != kEmpty; s = (s + 1) & mask) {
      const Entry& e = entries_[slots_[s]];
      if (e.hash == h && view(e) == t) {
        if (train) ++entries_[slots_[s]].train_count;
        return std::int32_t(slots_[s]) + 2;
      }
    }
    slots_[s] = std::uint32_t(entries_.size());
    entries_.push_back(Entry{h, arena_.size(), t.size(), train ? 1u : 0u});
    arena_.append(t);
    if (2 * entries_.size() > slots_.size()) grow();  // keep the load factor under 1/2
    return std::int32_t(entries_.size() - 1) + 2;
  }

  std::size_t size() const { return entries_.size(); }
  std::string_view token(std::size_t k) const { return view(entries_[k]); }
  std::size_t train_count(std::size_t k) const { return entries_[k].train_count; }

 private:
  struct Entry {
    std::uint64_t hash;
    std::size_t offset, length;
    std::uint32_t train_count;
  };
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  // FNV-1a (tokens are short), then MurmurHash3's finaliser: FNV alone
  // leaves the low bits, the only ones the mask keeps, poorly mixed, and
  // linear probing turns that into long clusters.
  static std::uint64_t hash(std::string_view t) {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : t) h = (h ^ std::uint8_t(c)) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
  }
  std::string_view view(const Entry& e) const { return std::string_view(arena_).substr(e.offset, e.length); }
  void grow() {
    std::vector<std::uint32_t> bigger(slots_.size() * 2, kEmpty);
    const std::size_t mask = bigger.size() - 1;
    for (std::uint32_t k = 0; k < entries_.size(); ++k) {
      std::size_t s = std::size_t(entries_[k].hash) & mask;
      while (bigger[s] != kEmpty) s = (s + 1) & mask;
      bigger[s] = k;
    }
    slots_.swap(bigger);
  }

  std::vector<std::uint32_t> slots_;  // index into entries_, or kEmpty
  std::vector<Entry> entries_;
  std::string arena_;  // all distinct tokens, back to back
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
  counts.reserve(in.size());
  for (std::size_t k = 0; k < in.size(); ++k) {
    counts.emplace_back(in.token(k), in.train_count(k));
    out.distinct_train_tokens += in.train_count(k) > 0;
  }
  // Nothing to learn from: every review would be padding alone.
  if (out.distinct_train_tokens == 0)
    throw Error(reviews_json.string() + ": the " + std::to_string(out.train.size()) +
                " training reviews (even records) hold no token at all (empty, or no run of [a-z0-9'])");
  out.vocab = Vocab::from_counts(std::move(counts), opt.vocab_tokens);

  std::vector<std::int32_t> renumber(in.size() + 2, Vocab::kOov);
  renumber[Vocab::kPad] = Vocab::kPad;
  for (std::size_t k = 0; k < in.size(); ++k) renumber[k + 2] = out.vocab.id(std::string(in.token(k)));
  for (ImdbSplit* s : {&out.train, &out.test})
    for (auto& id : s->ids) id = renumber[std::size_t(id)];
  return out;
}

Imdb fetch_imdb(const std::filesystem::path& data_dir, const ImdbOptions& opt) {
  return load_imdb(data_files(imdb_package(), data_dir).at(0), opt);
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

ImdbReview ImdbSplit::get(std::size_t i) const {
  if (i >= size()) throw Error("ImdbSplit::get: review " + std::to_string(i) + " of " + std::to_string(size()));
  const std::size_t len = std::size_t(lengths[i]);
  return {Span<std::int32_t>(ids.data() + (i + 1) * maxlen - len, len), labels[i]};
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

}  // namespace tg::data

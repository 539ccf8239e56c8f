#include <tapegrad/datasets/slots/vocab.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>

#include <unistd.h>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/io/atomic_file.hpp>

namespace tg::slots {

namespace {

const char* const kVocabHeader = "# tapegrad slot vocabulary v1";
const char* const kTagHeader = "# tapegrad slot tags v1";
const char* const kPadWord = "<pad>";
const char* const kUnkWord = "<unk>";

// Header, then one entry a line, into PATH.tmp.PID, then renamed over PATH:
// rename is atomic on one file system, so readers see the old or new file.
void write_atomically(const std::string& path, const char* header, const std::vector<std::string>& lines) {
  std::string content = std::string(header) + '\n';
  for (const auto& l : lines) content += l + '\n';
  io::write_file_atomic(path, content);
}

// The entries of a file written by write_atomically; each must be one
// non-empty token with no white space.
std::vector<std::string> read_entries(const std::string& path, const char* header) {
  std::ifstream in(path);
  if (!in) throw Error("slots: cannot open " + path);
  std::string line;
  if (!std::getline(in, line) || line != header)
    throw Error("slots: " + path + ":1: expected header '" + std::string(header) + "', got '" + line + "'");
  std::vector<std::string> entries;
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line.find_first_of(" \t\r") != std::string::npos)
      throw Error("slots: " + path + ":" + std::to_string(n) + ": bad entry '" + line + "'");
    entries.push_back(line);
  }
  return entries;
}

}  // namespace

// ---- Vocab -----------------------------------------------------------------

void Vocab::add(const std::string& word) {
  if (!ids_.emplace(word, static_cast<std::int64_t>(words_.size())).second)
    throw Error("slots: vocabulary: duplicate word '" + word + "'");
  words_.push_back(word);
}

Vocab Vocab::build(const std::vector<Utterance>& train, std::size_t min_count) {
  std::unordered_map<std::string, std::size_t> counts;
  for (const auto& u : train)
    for (const auto& w : u.words) ++counts[lowercase(w)];
  std::vector<std::pair<std::string, std::size_t>> kept;
  for (auto& [w, c] : counts)
    if (c >= min_count && w != kPadWord && w != kUnkWord) kept.emplace_back(w, c);
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocab v;
  v.add(kPadWord);
  v.add(kUnkWord);
  for (const auto& [w, c] : kept) v.add(w);
  return v;
}

std::int64_t Vocab::id(const std::string& word) const {
  auto it = ids_.find(lowercase(word));
  // The reserved spellings are not words: a literal "<pad>" in text is unknown.
  if (it == ids_.end() || it->second == kPad) return kUnk;
  return it->second;
}

const std::string& Vocab::word(std::int64_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= words_.size())
    throw Error("slots: vocabulary: id " + std::to_string(id) + " out of range [0, " +
                std::to_string(words_.size()) + ")");
  return words_[static_cast<std::size_t>(id)];
}

std::vector<std::int64_t> Vocab::encode(const std::vector<std::string>& words) const {
  std::vector<std::int64_t> ids;
  ids.reserve(words.size());
  for (const auto& w : words) ids.push_back(id(w));
  return ids;
}

void Vocab::save(const std::string& path) const { write_atomically(path, kVocabHeader, words_); }

Vocab Vocab::load(const std::string& path) {
  const auto entries = read_entries(path, kVocabHeader);
  if (entries.size() < 2 || entries[0] != kPadWord || entries[1] != kUnkWord)
    throw Error("slots: " + path + ": the first two entries must be " + kPadWord + " and " + kUnkWord);
  Vocab v;
  for (const auto& w : entries) {
    if (w != lowercase(w)) throw Error("slots: " + path + ": word '" + w + "' is not lowercase");
    v.add(w);
  }
  return v;
}

// ---- TagSet ----------------------------------------------------------------

void TagSet::add(const std::string& tag) {
  if (!ids_.emplace(tag, static_cast<std::int64_t>(tags_.size())).second)
    throw Error("slots: tag set: duplicate tag '" + tag + "'");
  tags_.push_back(tag);
}

TagSet TagSet::build(const std::vector<Utterance>& train) {
  std::vector<std::string> seen;
  for (const auto& u : train)
    for (const auto& t : u.tags) {
      check_bio_tag(t, "slots: TagSet::build: ");
      if (t != "O") seen.push_back(t);
    }
  // By type, then B- before I-: the B/I pair of a slot sit side by side.
  std::sort(seen.begin(), seen.end(), [](const std::string& a, const std::string& b) {
    const int c = a.compare(2, std::string::npos, b, 2, std::string::npos);
    return c != 0 ? c < 0 : a[0] < b[0];
  });
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  TagSet s;
  s.add("O");
  for (const auto& t : seen) s.add(t);
  return s;
}

std::int64_t TagSet::find(const std::string& tag) const {
  auto it = ids_.find(tag);
  return it == ids_.end() ? -1 : it->second;
}

const std::string& TagSet::tag(std::int64_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tags_.size())
    throw Error("slots: tag set: id " + std::to_string(id) + " out of range [0, " +
                std::to_string(tags_.size()) + ")");
  return tags_[static_cast<std::size_t>(id)];
}

void TagSet::save(const std::string& path) const { write_atomically(path, kTagHeader, tags_); }

TagSet TagSet::load(const std::string& path) {
  const auto entries = read_entries(path, kTagHeader);
  if (entries.empty() || entries[0] != "O") throw Error("slots: " + path + ": the first tag must be O");
  TagSet s;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    check_bio_tag(entries[i], "slots: " + path + ":" + std::to_string(i + 2) + ": ");
    s.add(entries[i]);
  }
  return s;
}

// ---- encode ----------------------------------------------------------------

EncodedSentence EncodedSplit::get(std::size_t i) const {
  if (i >= words.size())
    throw Error("slots: EncodedSplit::get: sentence " + std::to_string(i) + " of " + std::to_string(words.size()));
  return {words[i], tags[i]};
}

std::vector<std::size_t> EncodedSplit::lengths() const {
  std::vector<std::size_t> out;
  out.reserve(words.size());
  for (const auto& w : words) out.push_back(w.size());
  return out;
}

std::size_t EncodedSplit::unseen_tag_count() const {
  std::size_t n = 0;
  for (const auto& [t, c] : unseen_tags) n += c;
  return n;
}

std::string EncodedSplit::warning(const std::string& split_name) const {
  if (unseen_tags.empty()) return "";
  std::string s = "slots: warning: " + split_name + ": " + std::to_string(unseen_tag_count()) +
                  " token(s) carry a tag not seen in train (" + std::to_string(unseen_tags.size()) +
                  " distinct), mapped to O:";
  for (const auto& [t, c] : unseen_tags) s += " " + t + " (" + std::to_string(c) + ")";
  return s;
}

EncodedSplit encode(const std::vector<Utterance>& split, const Vocab& vocab, const TagSet& tags) {
  EncodedSplit e;
  e.words.reserve(split.size());
  e.tags.reserve(split.size());
  for (const auto& u : split) {
    if (u.words.size() != u.tags.size())
      throw Error("slots: encode: " + std::to_string(u.words.size()) + " words but " +
                  std::to_string(u.tags.size()) + " tags");
    e.words.push_back(vocab.encode(u.words));
    for (auto id : e.words.back()) e.unknown_words += id == Vocab::kUnk;
    std::vector<std::int64_t> ids;
    ids.reserve(u.tags.size());
    for (const auto& t : u.tags) {
      std::int64_t id = tags.find(t);
      if (id < 0) {
        ++e.unseen_tags[t];
        id = 0;  // "O"
      }
      ids.push_back(id);
    }
    e.tags.push_back(std::move(ids));
  }
  return e;
}

}  // namespace tg::slots

// Tokenizer and vocabulary of the IMDB protocol (see imdb.hpp).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <system_error>
#include <unistd.h>

#include <tapegrad/datasets/imdb.hpp>

#include <tapegrad/io/atomic_file.hpp>

namespace tg::data {
namespace {

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

const std::string kPadName = "<pad>", kOovName = "<unk>";

bool valid_token(const std::string& t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), is_token_byte);
}

}  // namespace

// Lowercase first, then replace: "<BR />" is replaced too, as in
// text.lower().replace("<br />", " ").
std::string normalize_review(std::string_view text) {
  static constexpr std::string_view br = "<br />";
  std::string out(text.size(), ' ');
  std::size_t o = 0;
  for (std::size_t i = 0; i < text.size();) {
    bool is_br = text[i] == '<' && i + br.size() <= text.size();
    for (std::size_t k = 1; is_br && k < br.size(); ++k) is_br = lower_ascii(text[i + k]) == br[k];
    if (is_br) {
      out[o++] = ' ';
      i += br.size();
    } else {
      out[o++] = lower_ascii(text[i++]);
    }
  }
  out.resize(o);
  return out;
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  for_each_token(normalize_review(text), [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

Vocab::Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  ids_.reserve(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (!valid_token(tokens_[i]))
      throw Error("vocabulary: token for id " + std::to_string(i + 2) + " '" + tokens_[i] +
                  "' is not a run of [a-z0-9']");
    if (!ids_.emplace(tokens_[i], std::int32_t(i + 2)).second)
      throw Error("vocabulary: token '" + tokens_[i] + "' appears twice (ids " +
                  std::to_string(ids_[tokens_[i]]) + " and " + std::to_string(i + 2) + ")");
  }
}

Vocab Vocab::from_counts(std::vector<std::pair<std::string_view, std::size_t>> counts,
                         std::size_t max_tokens) {
  counts.erase(std::remove_if(counts.begin(), counts.end(), [](const auto& c) { return c.second == 0; }),
               counts.end());
  // Most frequent first; equal counts by the token's bytes ascending
  // (string_view compares as unsigned bytes, like memcmp).
  auto before = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  std::size_t k = std::min(max_tokens, counts.size());
  std::partial_sort(counts.begin(), counts.begin() + std::ptrdiff_t(k), counts.end(), before);
  std::vector<std::string> tokens;
  tokens.reserve(k);
  for (std::size_t i = 0; i < k; ++i) tokens.emplace_back(counts[i].first);
  return Vocab(std::move(tokens));
}

Vocab Vocab::build(const std::vector<std::string>& texts, std::size_t max_tokens) {
  std::unordered_map<std::string, std::size_t> count;
  for (const auto& text : texts)
    for_each_token(normalize_review(text), [&](std::string_view t) { ++count[std::string(t)]; });
  std::vector<std::pair<std::string_view, std::size_t>> pairs(count.begin(), count.end());
  return from_counts(std::move(pairs), max_tokens);
}

std::int32_t Vocab::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? kOov : it->second;
}

const std::string& Vocab::token(std::int32_t id) const {
  if (id == kPad) return kPadName;
  if (id == kOov) return kOovName;
  if (id < 2 || std::size_t(id) >= size())
    throw Error("vocabulary: id " + std::to_string(id) + " out of range 0.." + std::to_string(size() - 1));
  return tokens_[std::size_t(id) - 2];
}

std::string Vocab::text() const {
  std::string content = std::string(kPadName) + '\n' + kOovName + '\n';
  for (const auto& t : tokens_) content += t + '\n';
  return content;
}

void Vocab::save(const std::filesystem::path& file) const { io::write_file_atomic(file.string(), text()); }

Vocab Vocab::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open vocabulary file");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.empty() || all.back() != '\n')
    throw Error(file.string() + ": vocabulary file is empty or does not end with a newline (truncated?)");
  std::vector<std::string> tokens;
  std::size_t line = 0;
  for (std::size_t pos = 0; pos < all.size();) {
    std::size_t nl = all.find('\n', pos);
    std::string t = all.substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    const std::string where = file.string() + ": line " + std::to_string(line) + " (id " +
                              std::to_string(line - 1) + ", byte offset " +
                              std::to_string(pos - t.size() - 1) + "): ";
    if (line == 1 || line == 2) {
      const std::string& want = line == 1 ? kPadName : kOovName;
      if (t != want) throw Error(where + "expected '" + want + "', found '" + t + "'");
      continue;
    }
    if (!valid_token(t)) throw Error(where + "'" + t + "' is not a run of [a-z0-9']");
    tokens.push_back(std::move(t));
  }
  if (line < 2) throw Error(file.string() + ": vocabulary lacks the <pad> and <unk> lines");
  try {
    return Vocab(std::move(tokens));
  } catch (const Error& e) {
    throw Error(file.string() + ": " + e.what());
  }
}

}  // namespace tg::data

// A small synthetic IMDB of one's own, a reviews .json file, for tests that
// train imdb_lstm on it (--data FILE).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace tg::test {

// `n` short reviews in `dir`/reviews.json: neutral filler with one or two
// sentiment words placed anywhere; label 1 for the "great/wonderful" family,
// 0 for "awful/boring". Punctuation, capitals and "<br />" exercise the
// tokenizer. The loader splits them by index parity: n/2 train, n/2 test.
inline std::filesystem::path write_reviews(const std::filesystem::path& dir, std::size_t n,
                                           std::uint64_t seed) {
  const std::vector<std::string> pos = {"great", "wonderful", "excellent", "loved", "Brilliant"};
  const std::vector<std::string> neg = {"awful", "boring", "terrible", "hated", "Dull"};
  const std::vector<std::string> filler = {"the", "movie", "film", "plot", "actors", "was", "and",
                                           "a", "it", "this", "story", "scene", "director",
                                           "music", "ending", "of", "with", "in", "really", "i",
                                           "<br />", "cast", "time", "watched", "don't"};
  std::mt19937_64 rng(seed);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  const std::filesystem::path file = dir / "reviews.json";
  std::ofstream out(file);
  out << "[";
  for (std::size_t i = 0; i < n; ++i) {
    const int label = int(rng() % 2);
    std::vector<std::string> words;
    const std::size_t len = 4 + rng() % 10;
    for (std::size_t k = 0; k < len; ++k) words.push_back(pick(filler));
    const std::size_t signals = 1 + rng() % 2;
    for (std::size_t k = 0; k < signals; ++k)
      words.insert(words.begin() + rng() % (words.size() + 1), pick(label ? pos : neg));
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    text += rng() % 2 ? "." : "!";
    out << (i ? ",\n" : "\n") << "{\"t\": \"" << text << "\", \"s\": " << label << "}";
  }
  out << "\n]\n";
  return file;
}

}  // namespace tg::test

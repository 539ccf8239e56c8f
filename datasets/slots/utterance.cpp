#include <tapegrad/datasets/slots/utterance.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <tapegrad/backend/tensor.hpp>

namespace tg::slots {

std::string lowercase(const std::string& word) {
  std::string s = word;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

namespace {

std::vector<std::string> split_spaces(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool is_edge_punct(char c) {
  return c == '.' || c == ',' || c == '!' || c == '?' || c == ';' || c == ':' ||
         c == '"' || c == '(' || c == ')';
}

// All lines of a file, without the end-of-line (also a Windows '\r').
std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("slots: cannot open " + path.string());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  if (in.bad()) throw Error("slots: read error in " + path.string());
  return lines;
}

}  // namespace

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  for (std::string w : split_spaces(text)) {
    std::size_t b = 0, e = w.size();
    while (b < e && is_edge_punct(w[b])) ++b;
    while (e > b && is_edge_punct(w[e - 1])) --e;
    if (e > b) out.push_back(w.substr(b, e - b));
  }
  return out;
}

void check_bio_tag(const std::string& tag, const std::string& where) {
  bool ok = tag == "O" || (tag.size() > 2 && (tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-');
  if (!ok) throw Error(where + "tag '" + tag + "' is not O, B-type or I-type");
}

std::vector<Utterance> read_split(const std::string& split_dir, std::size_t max_length) {
  namespace fs = std::filesystem;
  const fs::path dir(split_dir);
  const fs::path in_path = dir / "seq.in", out_path = dir / "seq.out", label_path = dir / "label";
  for (const auto& p : {in_path, out_path, label_path})
    if (!fs::is_regular_file(p)) throw Error("slots: missing file " + p.string());

  const auto words = read_lines(in_path), tags = read_lines(out_path), labels = read_lines(label_path);
  if (words.size() != tags.size() || words.size() != labels.size())
    throw Error("slots: line counts differ in " + dir.string() + ": seq.in " +
                std::to_string(words.size()) + ", seq.out " + std::to_string(tags.size()) +
                ", label " + std::to_string(labels.size()));

  std::vector<Utterance> out(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string line = std::to_string(i + 1);
    Utterance& u = out[i];
    u.words = split_spaces(words[i]);
    u.tags = split_spaces(tags[i]);
    std::vector<std::string> label = split_spaces(labels[i]);
    if (u.words.empty()) throw Error("slots: " + in_path.string() + ":" + line + ": empty line");
    if (u.words.size() > max_length)
      throw Error("slots: " + in_path.string() + ":" + line + ": a sentence of " + std::to_string(u.words.size()) +
                  " tokens, over the limit of " + std::to_string(max_length) + " (--max-length)");
    if (u.tags.empty()) throw Error("slots: " + out_path.string() + ":" + line + ": empty line");
    if (label.size() != 1)
      throw Error("slots: " + label_path.string() + ":" + line + ": expected one intent, got " +
                  std::to_string(label.size()) + " words");
    if (u.words.size() != u.tags.size())
      throw Error("slots: " + out_path.string() + ":" + line + ": " + std::to_string(u.tags.size()) +
                  " tags for " + std::to_string(u.words.size()) + " tokens in " + in_path.string());
    for (std::size_t t = 0; t < u.tags.size(); ++t)
      check_bio_tag(u.tags[t], "slots: " + out_path.string() + ":" + line + ": token " +
                                   std::to_string(t + 1) + " ('" + u.words[t] + "'): ");
    u.intent = label[0];
  }
  return out;
}

SlotData read_folder(const std::string& dir, std::size_t max_length) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw Error("slots: no such folder " + dir);
  SlotData d;
  d.train = read_split((fs::path(dir) / "train").string(), max_length);
  d.valid = read_split((fs::path(dir) / "valid").string(), max_length);
  d.test = read_split((fs::path(dir) / "test").string(), max_length);
  return d;
}

}  // namespace tg::slots

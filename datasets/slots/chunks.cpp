#include <tapegrad/datasets/slots/chunks.hpp>

#include <tuple>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/slots/utterance.hpp>

namespace tg::slots {

bool Chunk::operator<(const Chunk& o) const {
  return std::tie(begin, end, type) < std::tie(o.begin, o.end, o.type);
}

namespace {

// "B-dest" -> ('B', "dest"); "O" -> ('O', "").
std::pair<char, std::string> split_tag(const std::string& tag) {
  if (tag == "O") return {'O', ""};
  return {tag[0], tag.substr(2)};
}

// conlleval's endOfChunk, restricted to BIO: does the chunk open at the
// previous token end before the current one?
bool chunk_ends(char prev, const std::string& prev_type, char cur, const std::string& type) {
  if (prev == 'O') return false;
  return cur == 'O' || cur == 'B' || prev_type != type;
}

// conlleval's startOfChunk, restricted to BIO.
bool chunk_starts(const std::string& prev_type, char cur, const std::string& type) {
  if (cur == 'O') return false;
  return cur == 'B' || prev_type != type;
}

}  // namespace

std::vector<Chunk> chunks(const std::vector<std::string>& tags) {
  std::vector<Chunk> out;
  char prev = 'O';
  std::string prev_type;
  bool open = false;
  // One step past the end, as an O, closes the last chunk.
  for (std::size_t i = 0; i <= tags.size(); ++i) {
    char cur = 'O';
    std::string type;
    if (i < tags.size()) {
      check_bio_tag(tags[i], "slots: chunks: position " + std::to_string(i) + ": ");
      std::tie(cur, type) = split_tag(tags[i]);
    }
    if (open && chunk_ends(prev, prev_type, cur, type)) {
      out.back().end = i;
      open = false;
    }
    if (chunk_starts(prev_type, cur, type)) {
      out.push_back(Chunk{type, i, i});
      open = true;
    }
    prev = cur;
    prev_type = type;
  }
  return out;
}

std::string slot_display_name(const std::string& type) {
  if (type == "dest") return "destination";
  if (type == "depart_place") return "place of departure";
  if (type == "arrival_time") return "time of arrival";
  if (type == "depart_time") return "time of departure";
  std::string s = type;
  for (char& c : s)
    if (c == '_' || c == '.') c = ' ';
  return s;
}

std::vector<FilledSlot> filled_slots(const std::vector<std::string>& words,
                                     const std::vector<std::string>& tags) {
  if (words.size() != tags.size())
    throw Error("slots: filled_slots: " + std::to_string(words.size()) + " words but " +
                std::to_string(tags.size()) + " tags");
  std::vector<FilledSlot> out;
  for (const Chunk& c : chunks(tags)) {
    std::string value;
    for (std::size_t i = c.begin; i < c.end; ++i) value += (i > c.begin ? " " : "") + words[i];
    out.push_back(FilledSlot{c.type, slot_display_name(c.type), value});
  }
  return out;
}

}  // namespace tg::slots

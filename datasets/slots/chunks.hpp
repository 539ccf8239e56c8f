// BIO chunks, by the rules of the CoNLL-2000 conlleval script:
//  - a chunk starts at B-X, or at I-X whose previous tag is O or of another
//    type (an I- with no B- still opens a chunk);
//  - it ends before the next O, before any B-, before an I- of another type,
//    and at the end of the sentence.
// The same rules serve the scorer (conlleval.hpp) and the display of filled
// slots, so what is printed is exactly what is scored.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace tg::slots {

// One chunk: tokens [begin, end) of type `type` ("dest" for B-dest I-dest).
struct Chunk {
  std::string type;
  std::size_t begin = 0, end = 0;
  bool operator==(const Chunk& o) const { return type == o.type && begin == o.begin && end == o.end; }
  bool operator<(const Chunk& o) const;
};

// The chunks of one sentence, in order. Every tag must be O, B-x or I-x
// (tg::Error otherwise).
std::vector<Chunk> chunks(const std::vector<std::string>& tags);

// "dest" -> "destination", "depart_place" -> "place of departure", ...; a
// type outside the ticket corpus reads with its '_' and '.' as spaces
// ("fromloc.city_name" -> "fromloc city name").
std::string slot_display_name(const std::string& type);

struct FilledSlot {
  std::string type;   // "dest"
  std::string name;   // "destination"
  std::string value;  // the chunk's words, as written, joined by spaces
};

// (words, tags) -> the filled slots in sentence order:
// "I would like to arrive Taipei on November 2nd" with its tags ->
// [(destination, "Taipei"), (time of arrival, "November 2nd")].
std::vector<FilledSlot> filled_slots(const std::vector<std::string>& words,
                                     const std::vector<std::string>& tags);

}  // namespace tg::slots

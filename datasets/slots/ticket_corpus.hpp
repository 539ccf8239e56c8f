// The built-in ticket-booking corpus: the lecture's domain, generated from a
// seeded grammar, so the slot-filling app runs anywhere without a download.
//
// Four slot types, the lecture's own:
//   dest          "destination"         arrive taipei / to taipei
//   depart_place  "place of departure"  leave taipei / from taipei
//   arrival_time  "time of arrival"     arrive ... on november 2nd / at 5 pm
//   depart_time   "time of departure"   leave ... on november 2nd / at 5 pm
// A date and a clock time are both "time" (the lecture tags "November 2nd"
// as time of arrival); the preposition before them is O. The same city or
// date gets another slot depending on the verb before it, so a tagger that
// sees one word at a time cannot fill them: it needs memory.
// The grammar is written out in docs/slot_filling_data.md. All words are
// lowercase.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/datasets/slots/utterance.hpp>

namespace tg::slots {

struct CorpusOptions {
  std::uint64_t seed = 20240501;
  std::size_t train = 3000, valid = 300, test = 300;
};

// Train, valid and test share no sentence (compared word for word). The test
// split starts with the lecture's two sentences, which the other splits
// never contain. Same options, same corpus, on every machine.
SlotData make_ticket_corpus(const CorpusOptions& options = {});

// The lecture's sentences, built by the grammar's own rules, with gold tags:
//   "i would like to arrive taipei on november 2nd"
//    O O     O    O  O      B-dest O  B-arrival_time I-arrival_time
//   "leave taipei on november 2nd"
//    O     B-depart_place O B-depart_time I-depart_time
std::vector<Utterance> lecture_sentences();

// "dest", "depart_place", "arrival_time", "depart_time".
const std::vector<std::string>& ticket_slot_types();

}  // namespace tg::slots

// Scoring and tagging with a slot tagger: conlleval scores of a split (on one
// process, or shared by the ranks of an mpirun), a sentence's tags and their
// display, and the log lines of scores.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/slot_filling/slot_model.hpp"
#include <tapegrad/datasets/slots/conlleval.hpp>

namespace tg::slotapp {

// conlleval scores of a split, predicted in chunks of `chunk` sentences under
// no_grad with dropout off, scored against the split's own tag strings (a
// tag the model cannot know counts as a miss).
slots::ChunkScorer evaluate(SlotModel& model, const std::vector<slots::Utterance>& split,
                            std::size_t chunk = 500);

// evaluate() of a split that must not be empty (an empty one would score 0;
// the tg::Error names the split), its encoding's warning on `warn`.
slots::ChunkScorer score(SlotModel& model, const std::vector<slots::Utterance>& split, const std::string& name,
                         std::FILE* warn);

// The valid split's F1 over every process of the run (collective): each
// scores its contiguous share of the sentences and the chunk and token counts
// are summed, so every rank gets the whole split's F1.
double valid_f1(SlotModel& model, const std::vector<slots::Utterance>& valid);

// One sentence's words -> predicted tag strings.
std::vector<std::string> tag_words(SlotModel& model, const std::vector<std::string>& words);

// The tagging display: each token with its tag, then the filled slots:
//   I          O
//   ...
//   Taipei     B-dest
//   ...
//   destination: Taipei
//   time of arrival: November 2nd
// (or "slots: none").
std::string tagging_report(const std::vector<std::string>& words, const std::vector<std::string>& tags);

// A line on `log` (nullptr: silent), flushed.
void say(std::FILE* log, const std::string& line);

// "<what>: precision ... F1 ..." and conlleval's summary line on `log`.
void print_scores(std::FILE* log, const std::string& what, const slots::ChunkScorer& scores);

}  // namespace tg::slotapp

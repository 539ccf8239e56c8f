// Utterances with BIO slot tags, and the reader for the ATIS/SNIPS layout:
//
//   DIR/{train,valid,test}/seq.in   one utterance a line, tokens split by spaces
//   DIR/{train,valid,test}/seq.out  its BIO tags, one per token
//   DIR/{train,valid,test}/label    its intent
//
// Words keep their original spelling (for display); the vocabulary
// lowercases them on lookup, so "Taipei" and "taipei" share one id.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tg::slots {

struct Utterance {
  std::vector<std::string> words;  // as written
  std::vector<std::string> tags;   // "O", "B-type" or "I-type", one per word
  std::string intent;
};

struct SlotData {
  std::vector<Utterance> train, valid, test;
};

// ASCII lowercase: the one normalisation every word goes through.
std::string lowercase(const std::string& word);

// Free text typed by a user -> words: split on white space, and strip
// punctuation from either end of a word ("Taipei," -> "Taipei"), keeping
// inner characters ("5:30", "i'd"). The spelling is kept.
std::vector<std::string> tokenize(const std::string& text);

// Throws tg::Error unless tag is "O", "B-x" or "I-x" with a non-empty x.
// `where` starts the message ("file:line: ").
void check_bio_tag(const std::string& tag, const std::string& where);

// The longest sentence a split may hold by default, in tokens: far above
// ATIS's 46 and SNIPS's 35, and small enough that training on it takes
// megabytes, not the gigabytes a 100,000-token line would.
constexpr std::size_t kMaxSentenceLength = 1000;

// One split folder (holding seq.in, seq.out, label). Throws tg::Error naming
// the file and line for: a missing file, differing line counts, an empty
// line, a sentence of more than `max_length` tokens (refused, not cut: its
// tags would be cut too), a token count that differs from the tag count, a
// tag not in BIO form.
std::vector<Utterance> read_split(const std::string& split_dir,
                                  std::size_t max_length = kMaxSentenceLength);

// DIR/train, DIR/valid, DIR/test.
SlotData read_folder(const std::string& dir, std::size_t max_length = kMaxSentenceLength);

}  // namespace tg::slots

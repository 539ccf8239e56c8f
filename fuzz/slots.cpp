// Fuzz target: the slot-filling split reader (ATIS layout: seq.in, seq.out,
// label in one folder). The input is cut at its first two '|' bytes into
// the three files (a missing part is an empty file); read_split reads the
// folder. An accepted split then goes through what the app does with train
// data: Vocab::build, TagSet::build and encode.
#include <cstddef>
#include <cstdint>
#include <string>

#include <tapegrad/datasets/slots/utterance.hpp>
#include <tapegrad/datasets/slots/vocab.hpp>
#include "fuzz/fuzz_input.hpp"

#include <sys/stat.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    std::string d = tg::fuzz::temp_path("slots");
    ::mkdir(d.c_str(), 0700);
    return d;
  }();
  const char* names[3] = {"/seq.in", "/seq.out", "/label"};
  const std::uint8_t* begin = data;
  const std::uint8_t* const end = data + size;
  for (int part = 0; part < 3; ++part) {
    const std::uint8_t* cut = begin;
    while (cut != end && (part == 2 || *cut != '|')) ++cut;
    tg::fuzz::write_file(dir + names[part], begin, std::size_t(cut - begin));
    begin = cut == end ? end : cut + 1;
  }
  tg::fuzz::attempt("read_split", [&] {
    const auto split = tg::slots::read_split(dir);
    for (const auto& u : split) {
      tg::fuzz::check(!u.words.empty() && u.words.size() == u.tags.size(), "words/tags mismatch");
      tg::fuzz::check(!u.intent.empty(), "empty intent");
    }
    const auto vocab = tg::slots::Vocab::build(split);
    const auto tags = tg::slots::TagSet::build(split);
    const auto enc = tg::slots::encode(split, vocab, tags);
    tg::fuzz::check(enc.words.size() == split.size() && enc.unseen_tags.empty(),
                    "encoding the train split itself");
  });
  return 0;
}

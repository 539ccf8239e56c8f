// Fuzz target: the vocabulary and tag-list readers. The same bytes go to
// the slot vocabulary (slots::Vocab::load), the slot tag list
// (slots::TagSet::load) and the IMDB vocabulary (data::Vocab::load); the
// seeds hold each format. What a reader accepts must look itself up.
#include <cstddef>
#include <cstdint>
#include <string>

#include <tapegrad/datasets/imdb.hpp>
#include <tapegrad/datasets/slots/vocab.hpp>
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = tg::fuzz::temp_path("vocab.txt");
  tg::fuzz::write_file(path, data, size);
  tg::fuzz::attempt("slots::Vocab::load", [&] {
    const auto v = tg::slots::Vocab::load(path);
    for (std::size_t i = 2; i < v.size(); ++i)
      tg::fuzz::check(v.id(v.word(std::int64_t(i))) == std::int64_t(i), "slot word id round trip");
  });
  tg::fuzz::attempt("slots::TagSet::load", [&] {
    const auto t = tg::slots::TagSet::load(path);
    for (std::size_t i = 0; i < t.size(); ++i)
      tg::fuzz::check(t.find(t.tag(std::int64_t(i))) == std::int64_t(i), "tag id round trip");
  });
  tg::fuzz::attempt("data::Vocab::load", [&] {
    const auto v = tg::data::Vocab::load(path);
    for (std::size_t i = 2; i < v.size(); ++i)
      tg::fuzz::check(v.id(v.token(std::int32_t(i))) == std::int32_t(i), "imdb token id round trip");
  });
  return 0;
}

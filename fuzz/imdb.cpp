// Fuzz target: the IMDB reviews.json reader. load_imdb streams the file
// through for_each_review (SAX: records {"t": text, "s": 0|1}), tokenizes,
// builds the vocabulary and encodes both splits; small options keep each
// run cheap. An accepted file is then encoded again from its kept texts,
// which must give the same ids.
#include <cstddef>
#include <cstdint>
#include <string>

#include "datasets/imdb.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

void check_split(const tg::data::ImdbSplit& s, std::size_t maxlen) {
  tg::fuzz::check(s.maxlen == maxlen, "split maxlen");
  tg::fuzz::check(s.ids.size() == s.size() * maxlen, "ids.size() != reviews * maxlen");
  tg::fuzz::check(s.lengths.size() == s.size() && s.texts.size() == s.size(), "split sizes differ");
  for (int len : s.lengths) tg::fuzz::check(len >= 0 && std::size_t(len) <= maxlen, "length > maxlen");
  for (float l : s.labels) tg::fuzz::check(l == 0.0f || l == 1.0f, "label not 0/1");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = tg::fuzz::temp_path("reviews.json");
  tg::fuzz::write_file(path, data, size);
  tg::data::ImdbOptions opt;
  opt.vocab_tokens = 16;
  opt.maxlen = 8;
  opt.keep_text = true;
  tg::fuzz::attempt("load_imdb", [&] {
    const tg::data::Imdb imdb = tg::data::load_imdb(path, opt);
    tg::fuzz::check(imdb.vocab.size() <= opt.vocab_tokens + 2, "vocabulary larger than asked");
    for (const auto* s : {&imdb.train, &imdb.test}) {
      check_split(*s, opt.maxlen);
      const tg::data::ImdbSplit again =
          tg::data::encode_texts(s->texts, s->labels, imdb.vocab, opt.maxlen);
      tg::fuzz::check(again.ids == s->ids && again.lengths == s->lengths,
                      "encode_texts disagrees with load_imdb");
    }
  });
  return 0;
}

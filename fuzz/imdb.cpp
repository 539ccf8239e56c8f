// Fuzz target: the IMDB reviews.json reader. for_each_review streams the
// records {"t": text, "s": 0|1} (SAX); a file it reads through then goes
// to load_imdb, which tokenizes, builds the vocabulary and encodes both
// splits (small options keep it cheap; it is not run on refused files, as
// its token table alone costs more than parsing a small file). load_imdb
// must keep the same texts and labels, and encoding its kept texts again
// must give the same ids.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/datasets/imdb.hpp>
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
  std::vector<std::string> texts;
  std::vector<float> labels;
  bool read = false;
  tg::fuzz::attempt("for_each_review", [&] {
    tg::data::for_each_review(path, [&](std::size_t i, std::string& text, int label) {
      tg::fuzz::check(i == texts.size(), "records out of order");
      tg::fuzz::check(label == 0 || label == 1, "label not 0/1");
      texts.push_back(text);
      labels.push_back(float(label));
    });
    read = true;
  });
  if (!read) return 0;
  tg::fuzz::attempt("load_imdb", [&] {
    const tg::data::Imdb imdb = tg::data::load_imdb(path, opt);
    tg::fuzz::check(imdb.vocab.size() <= opt.vocab_tokens + 2, "vocabulary larger than asked");
    for (std::size_t parity : {0, 1}) {
      const tg::data::ImdbSplit& s = parity == 0 ? imdb.train : imdb.test;
      check_split(s, opt.maxlen);
      for (std::size_t k = 0; k < s.size(); ++k)
        tg::fuzz::check(s.texts[k] == texts[2 * k + parity] && s.labels[k] == labels[2 * k + parity],
                        "load_imdb and for_each_review disagree");
      const tg::data::ImdbSplit again =
          tg::data::encode_texts(s.texts, s.labels, imdb.vocab, opt.maxlen);
      tg::fuzz::check(again.ids == s.ids && again.lengths == s.lengths,
                      "encode_texts disagrees with load_imdb");
    }
  });
  return 0;
}

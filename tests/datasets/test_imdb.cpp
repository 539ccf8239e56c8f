// The IMDB protocol on a tiny reviews.json written here.
#include <set>

#include <catch2/catch.hpp>

#include <tapegrad/datasets/imdb.hpp>
#include "tmpdir.hpp"

using namespace tg::data;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

TEST_CASE("imdb: tokenizer", "[datasets][imdb]") {
  CHECK(tokenize("Hello, World!") == Strings{"hello", "world"});
  CHECK(tokenize("It's good.<br /><br />The END") == Strings{"it's", "good", "the", "end"});
  CHECK(tokenize("a<br />b") == Strings{"a", "b"});          // the literal is a separator
  CHECK(tokenize("<BR />x") == Strings{"x"});                // lowercased first, then replaced
  CHECK(tokenize("a<br/>b <br>c") == Strings{"a", "br", "b", "br", "c"});  // not the literal
  CHECK(tokenize("Top10 of 2006: 1,000 'quotes'") == Strings{"top10", "of", "2006", "1", "000", "'quotes'"});
  CHECK(tokenize("don't-stop...ok?!(x)") == Strings{"don't", "stop", "ok", "x"});
  CHECK(tokenize("caf\xc3\xa9 na\xc3\xafve") == Strings{"caf", "na", "ve"});  // non-ASCII bytes separate
  CHECK(tokenize("tab\tnew\nline_under") == Strings{"tab", "new", "line", "under"});
  CHECK(tokenize("").empty());
  CHECK(tokenize(" ...<br /> ").empty());
  CHECK(normalize_review("A<Br />B") == "a b");
}

TEST_CASE("imdb: vocabulary by count, ties by bytes", "[datasets][imdb]") {
  // counts: the 3, b 2, a 2, c 2, z 1, y 1
  Vocab v = Vocab::build({"b a c the", "c the b y", "a z the"}, 4);
  CHECK(v.tokens() == Strings{"the", "a", "b", "c"});
  CHECK(v.size() == 6);
  CHECK(v.id("the") == 2);
  CHECK(v.id("c") == 5);
  CHECK(v.id("y") == Vocab::kOov);  // cut off by the size limit
  CHECK(v.token(0) == "<pad>");
  CHECK(v.token(1) == "<unk>");
  CHECK(v.token(3) == "a");
  CHECK_THROWS_AS(v.token(6), tg::Error);
  CHECK(Vocab::build({"b a c the", "c the b y", "a z the"}, 100).tokens() ==
        Strings{"the", "a", "b", "c", "y", "z"});
  CHECK_THROWS_WITH(Vocab(Strings{"a", "b", "a"}), Catch::Contains("'a' appears twice"));
  CHECK_THROWS_WITH(Vocab(Strings{"a", "B"}), Catch::Contains("id 3"));
}

namespace {

// Six records: even indices are train, odd are test.
const char* kReviews = R"([
  {"t": "Good good film<br />GOOD", "s": 1},
  {"t": "unseen words only", "s": 0},
  {"t": "bad film, bad bad!", "s": 0},
  {"t": "good", "s": 1},
  {"t": "one two three four five six film", "s": 1, "extra": {"ignored": [1, 2]}},
  {"t": "", "s": 0}
])";

}  // namespace

TEST_CASE("imdb: split by parity, vocabulary from train only, last tokens, left padding", "[datasets][imdb]") {
  test::TmpDir tmp;
  test::write_file(tmp / "reviews.json", kReviews);
  ImdbOptions opt;
  opt.vocab_tokens = 3;
  opt.maxlen = 5;
  opt.keep_text = true;
  Imdb d = load_imdb(tmp / "reviews.json", opt);

  REQUIRE(d.train.size() == 3);
  REQUIRE(d.test.size() == 3);
  CHECK(d.train.labels == std::vector<float>{1, 0, 1});
  CHECK(d.test.labels == std::vector<float>{0, 1, 0});
  CHECK(d.first_train_text == "Good good film<br />GOOD");
  CHECK(d.train.texts[1] == "bad film, bad bad!");
  // train tokens: good 3, film 3, bad 3, one..six 1 each; test words not counted
  CHECK(d.distinct_train_tokens == 9);
  CHECK(d.vocab.tokens() == Strings{"bad", "film", "good"});  // tie at 3: by bytes

  const std::int32_t bad = 2, film = 3, good = 4, oov = 1;
  using Ids = std::vector<std::int32_t>;
  auto row = [](const ImdbSplit& s, std::size_t i) {
    return Ids(s.ids.begin() + std::ptrdiff_t(i * 5), s.ids.begin() + std::ptrdiff_t(i * 5 + 5));
  };
  CHECK(row(d.train, 0) == Ids{0, good, good, film, good});  // left-padded
  CHECK(row(d.train, 1) == Ids{0, bad, film, bad, bad});
  CHECK(row(d.train, 2) == Ids{oov, oov, oov, oov, film});   // 7 tokens: the last 5 kept
  CHECK(row(d.test, 0) == Ids{0, 0, oov, oov, oov});         // test-only words are OOV
  CHECK(row(d.test, 2) == Ids{0, 0, 0, 0, 0});               // empty review
  CHECK(d.train.lengths == std::vector<int>{4, 4, 5});
  CHECK(d.test.lengths == std::vector<int>{3, 1, 0});

  // The same vocabulary encodes new text the same way.
  ImdbSplit again = encode_texts({"bad film, bad bad!"}, {}, d.vocab, 5);
  CHECK(row(again, 0) == row(d.train, 1));
}

TEST_CASE("imdb: batches are (time, batch) int64, reshuffled reproducibly", "[datasets][imdb]") {
  test::TmpDir tmp;
  test::write_file(tmp / "reviews.json", kReviews);
  ImdbOptions opt;
  opt.maxlen = 4;
  Imdb d = load_imdb(tmp / "reviews.json", opt);

  ImdbBatch b = imdb_batch(d.train, {2, 0});
  REQUIRE(b.ids.shape() == std::vector<std::size_t>{4, 2});
  CHECK(b.labels.shape() == std::vector<std::size_t>{2});
  CHECK(b.labels(0) == 1.0f);
  CHECK(b.lengths == std::vector<int>{4, 4});
  for (std::size_t t = 0; t < 4; ++t) {
    CHECK(b.ids(t, 0) == d.train.ids[2 * 4 + t]);
    CHECK(b.ids(t, 1) == d.train.ids[0 * 4 + t]);
  }
  CHECK(imdb_range(d.test, 1, 10).ids.shape() == std::vector<std::size_t>{4, 2});

  LoaderOptions o;
  o.batch = 2;
  o.seed = 5;
  ImdbLoader x(d.train, o, imdb_batch), y(d.train, o, imdb_batch);
  CHECK(x.batches_per_epoch() == 2);  // 2 + 1
  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    std::multiset<float> labels;
    for (std::size_t k = 0; k < 2; ++k) {
      ImdbBatch p = x.at(epoch, k), q = y.at(epoch, k);
      CHECK((p.ids == q.ids));  // parenthesised: Catch cannot decompose xtensor operands
      CHECK(p.lengths == q.lengths);
      for (float l : p.labels) labels.insert(l);
    }
    CHECK(labels == std::multiset<float>{0, 1, 1});  // all three, once
  }
}

TEST_CASE("imdb: broken reviews.json names the record", "[datasets][imdb]") {
  test::TmpDir tmp;
  const auto file = tmp / "reviews.json";
  auto load = [&](const std::string& json) {
    test::write_file(file, json);
    return load_imdb(file);
  };
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":0},{"t":"b","s":1},{"t":"c",)"),
                    Catch::Contains(file.string() + ": malformed JSON at byte") && Catch::Contains("in record 2"));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":0}] x)"), Catch::Contains("malformed JSON"));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":0},{"t":"b","s":1},{"t":"c"}])"),
                    Catch::Contains(file.string() + ": record 2 has no \"s\""));
  CHECK_THROWS_WITH(load(R"([{"s":0}])"), Catch::Contains("record 0 has no \"t\""));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":0},{"t":"b","s":2}])"),
                    Catch::Contains("record 1: label \"s\" is 2, expected 0 or 1"));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":-1}])"), Catch::Contains("record 0: label \"s\" is -1"));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":"1"}])"), Catch::Contains("record 0: \"s\" is a string"));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":1.5}])"), Catch::Contains("record 0: label \"s\" is 1.5"));
  CHECK_THROWS_WITH(load(R"([{"t":7,"s":1}])"), Catch::Contains("record 0: \"t\" is a number"));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":0}, 5])"), Catch::Contains("record 1 is a number"));
  CHECK_THROWS_WITH(load(R"({"t":"a","s":0})"), Catch::Contains("top level is an object"));
  CHECK_THROWS_WITH(load(R"([{"t":"a","s":0}])"), Catch::Contains("at least two reviews"));
}

TEST_CASE("imdb: a training split without a single token is an error naming the file", "[datasets][imdb]") {
  test::TmpDir tmp;
  const auto file = tmp / "reviews.json";
  std::string all_empty = "[";
  for (int i = 0; i < 400; ++i) all_empty += std::string(i ? "," : "") + R"({"t":"","s":)" + std::to_string(i % 2) + "}";
  test::write_file(file, all_empty + "]");
  CHECK_THROWS_WITH(load_imdb(file), Catch::Contains(file.string()) && Catch::Contains("200 training reviews") &&
                                         Catch::Contains("no token"));
  // Punctuation only is no token either; one word in one training review is enough.
  test::write_file(file, R"([{"t":"?! <br />","s":0},{"t":"fine","s":1},{"t":"","s":1},{"t":"","s":0}])");
  CHECK_THROWS_WITH(load_imdb(file), Catch::Contains("no token"));
  test::write_file(file, R"([{"t":"","s":0},{"t":"","s":1},{"t":"fine","s":1},{"t":"","s":0}])");
  CHECK(load_imdb(file).vocab.tokens() == Strings{"fine"});
}

TEST_CASE("imdb: vocabulary file round trip and its checks", "[datasets][imdb]") {
  test::TmpDir tmp;
  const auto file = tmp / "vocab.txt";
  Vocab v(Strings{"the", "a", "don't", "42"});
  v.save(file);
  CHECK(test::read_file(file) == "<pad>\n<unk>\nthe\na\ndon't\n42\n");
  CHECK(v.text() == test::read_file(file));  // what a checkpoint hashes
  Vocab w = Vocab::load(file);
  CHECK(w.tokens() == v.tokens());
  CHECK(w.id("don't") == 4);
  CHECK(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()) == 1);  // no temp left

  auto load = [&](const std::string& text) {
    test::write_file(file, text);
    return Vocab::load(file);
  };
  CHECK_THROWS_WITH(load("<pad>\n<unk>\nthe\nThe\n"),
                    Catch::Contains(file.string() + ": line 4 (id 3, byte offset 16): 'The'"));
  CHECK_THROWS_WITH(load("<pad>\n<unk>\nthe\na\nthe\n"), Catch::Contains("'the' appears twice"));
  CHECK_THROWS_WITH(load("<pad>\n<unk>\nthe\nan"), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(load("<unk>\n<pad>\nthe\n"), Catch::Contains("line 1") && Catch::Contains("'<pad>'"));
  CHECK_THROWS_WITH(load("<pad>\n<unk>\n\n"), Catch::Contains("line 3"));
  CHECK_THROWS_WITH(Vocab::load(tmp / "none.txt"), Catch::Contains("none.txt"));
}

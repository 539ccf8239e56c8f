#include <catch2/catch.hpp>

#include <filesystem>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/slots/vocab.hpp>
#include "helpers.hpp"

using namespace tg::slots;
using Catch::Contains;

namespace {
Utterance utt(std::vector<std::string> words, std::vector<std::string> tags) {
  return Utterance{std::move(words), std::move(tags), "book_ticket"};
}
// "leave" x3, "taipei" x2 (any case), "tokyo" x1, "arrive" x1.
std::vector<Utterance> small_train() {
  return {utt({"leave", "Taipei"}, {"O", "B-depart_place"}),
          utt({"leave", "taipei", "arrive", "tokyo"}, {"O", "B-depart_place", "O", "B-dest"}),
          utt({"LEAVE", "new", "york"}, {"O", "B-depart_place", "I-depart_place"})};
}
}  // namespace

TEST_CASE("vocabulary: pad 0, unk 1, by frequency, case-insensitive", "[slots][vocab]") {
  const Vocab v = Vocab::build(small_train());
  CHECK(v.word(Vocab::kPad) == "<pad>");
  CHECK(v.word(Vocab::kUnk) == "<unk>");
  CHECK(v.word(2) == "leave");   // 3 times
  CHECK(v.word(3) == "taipei");  // 2 times
  CHECK(v.word(4) == "arrive");  // ties (1 time) by bytes: arrive new tokyo york
  CHECK(v.size() == 8);
  CHECK(v.id("TAIPEI") == 3);
  CHECK(v.id("kyoto") == Vocab::kUnk);
  CHECK(v.id("<pad>") == Vocab::kUnk);  // reserved spellings are not words
  CHECK(v.encode({"Leave", "Osaka"}) == std::vector<std::int64_t>{2, 1});
  REQUIRE_THROWS_AS(v.word(8), tg::Error);

  const Vocab cut = Vocab::build(small_train(), 2);  // words seen twice or more
  CHECK(cut.size() == 4);
  CHECK(cut.id("tokyo") == Vocab::kUnk);
}

TEST_CASE("vocabulary and tag set survive a save/load round trip", "[slots][vocab]") {
  test::TempDir d;
  const Vocab v = Vocab::build(small_train());
  const TagSet t = TagSet::build(small_train());
  const std::string vp = (d.path / "vocab.txt").string(), tp = (d.path / "tags.txt").string();
  v.save(vp);
  t.save(tp);
  v.save(vp);  // overwriting is fine
  // Only the two files: no temporary left behind.
  CHECK(std::distance(std::filesystem::directory_iterator(d.path), std::filesystem::directory_iterator{}) == 2);

  const Vocab v2 = Vocab::load(vp);
  REQUIRE(v2.size() == v.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(v.size()); ++i) CHECK(v2.word(i) == v.word(i));
  CHECK(v2.id("Tokyo") == v.id("tokyo"));
  const TagSet t2 = TagSet::load(tp);
  REQUIRE(t2.size() == t.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(t.size()); ++i) CHECK(t2.tag(i) == t.tag(i));

  test::write_file(d.path / "bad.txt", "# tapegrad slot tags v1\nO\nB-dest\nB dest\n");
  REQUIRE_THROWS_WITH(TagSet::load((d.path / "bad.txt").string()), Contains("bad.txt:4"));
  REQUIRE_THROWS_WITH(Vocab::load(tp), Contains("expected header"));
  REQUIRE_THROWS_WITH(Vocab::load((d.path / "none.txt").string()), Contains("cannot open"));
}

TEST_CASE("tag set: O first, B/I of a type side by side", "[slots][vocab]") {
  const TagSet t = TagSet::build(small_train());
  REQUIRE(t.size() == 4);
  CHECK(t.tag(0) == "O");
  CHECK(t.tag(1) == "B-depart_place");
  CHECK(t.tag(2) == "I-depart_place");
  CHECK(t.tag(3) == "B-dest");
  CHECK(t.find("I-dest") == -1);
}

TEST_CASE("tags never seen in train map to O, are counted, never crash", "[slots][vocab]") {
  const Vocab v = Vocab::build(small_train());
  const TagSet t = TagSet::build(small_train());
  const std::vector<Utterance> test = {
      utt({"arrive", "new", "york", "at", "noon"}, {"O", "B-dest", "I-dest", "O", "B-arrival_time"}),
      utt({"leave", "paris"}, {"O", "B-depart_place"})};
  const EncodedSplit e = encode(test, v, t);
  CHECK(e.tags[0] == std::vector<std::int64_t>{0, 3, 0, 0, 0});
  CHECK(e.tags[1] == std::vector<std::int64_t>{0, 1});
  CHECK(e.unseen_tag_count() == 2);
  CHECK(e.unseen_tags.at("I-dest") == 1);
  CHECK(e.unseen_tags.at("B-arrival_time") == 1);
  CHECK(e.unknown_words == 3);  // at, noon, paris
  CHECK_THAT(e.warning("test"), Contains("test: 2 token(s) carry a tag not seen in train (2 distinct)") && Contains("I-dest (1)"));
  CHECK(encode(small_train(), v, t).warning("train").empty());
}

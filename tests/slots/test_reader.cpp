#include <catch2/catch.hpp>

#include <set>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/slots/utterance.hpp>
#include <tapegrad/datasets/slots/vocab.hpp>
#include "helpers.hpp"

using namespace tg::slots;
using Catch::Contains;
using test::TempDir;
using test::write_file;

namespace {
// A split folder with the three files.
void write_split(const TempDir& d, const std::string& in, const std::string& out, const std::string& label) {
  write_file(d.path / "seq.in", in);
  write_file(d.path / "seq.out", out);
  write_file(d.path / "label", label);
}
}  // namespace

TEST_CASE("read_split reads words, tags and intents", "[slots][reader]") {
  TempDir d;
  write_split(d, "fly from boston to denver\nshow flights\n", "O O B-fromloc O B-toloc\nO O\n",
              "atis_flight\natis_flight#atis_airfare\n");
  auto s = read_split(d.str());
  REQUIRE(s.size() == 2);
  CHECK(s[0].words == std::vector<std::string>{"fly", "from", "boston", "to", "denver"});
  CHECK(s[0].tags[4] == "B-toloc");
  CHECK(s[1].intent == "atis_flight#atis_airfare");
}

TEST_CASE("a token/tag count mismatch names the file, the line and both counts", "[slots][reader]") {
  TempDir d;
  write_split(d, "a b\nfly to boston now\n", "O O\nO O B-toloc\n", "x\nx\n");
  REQUIRE_THROWS_AS(read_split(d.str()), tg::Error);
  REQUIRE_THROWS_WITH(read_split(d.str()),
                      Contains("seq.out:2") && Contains("3 tags for 4 tokens") && Contains("seq.in"));
}

TEST_CASE("reader errors: missing file, line counts, empty line, bad tag", "[slots][reader]") {
  TempDir d;
  write_file(d.path / "seq.in", "a\n");
  write_file(d.path / "seq.out", "O\n");
  REQUIRE_THROWS_WITH(read_split(d.str()), Contains("missing file") && Contains("label"));

  write_split(d, "a\nb\n", "O\nO\n", "x\n");
  REQUIRE_THROWS_WITH(read_split(d.str()), Contains("line counts differ") && Contains("label 1"));

  write_split(d, "a\n\n", "O\nO\n", "x\nx\n");
  REQUIRE_THROWS_WITH(read_split(d.str()), Contains("seq.in:2: empty line"));

  write_split(d, "a b\n", "O X-foo\n", "x\n");
  REQUIRE_THROWS_WITH(read_split(d.str()), Contains("seq.out:1") && Contains("token 2") && Contains("X-foo"));

  REQUIRE_THROWS_WITH(read_folder((d.path / "nowhere").string()), Contains("no such folder"));
}

TEST_CASE("a sentence longer than the limit is refused at load, naming file, line, length and limit",
          "[slots][reader]") {
  // Generated: 2 short sentences and one of 100,000 tokens on line 3, in
  // each file a split has; the default limit (1000) is far above ATIS's 46.
  std::string words, tags;
  for (int i = 0; i < 100000; ++i) words += "w ", tags += "O ";
  TempDir d;
  write_split(d, "fly to boston\nshow flights\n" + words + "\n", "O O B-toloc\nO O\n" + tags + "\n", "x\nx\nx\n");
  REQUIRE_THROWS_WITH(read_split(d.str()), Contains("seq.in:3") && Contains("100000 tokens") &&
                                               Contains("limit of 1000") && Contains("--max-length"));
  // A sentence at the limit loads; one past it does not.
  write_split(d, "a b c\na b c d\n", "O O O\nO O O O\n", "x\nx\n");
  CHECK(read_split(d.str(), 4).size() == 2);
  REQUIRE_THROWS_WITH(read_split(d.str(), 3), Contains("seq.in:2") && Contains("4 tokens") && Contains("limit of 3"));
  // read_folder checks every split: the test split too.
  TempDir f;
  for (const char* split : {"train", "valid"}) {
    write_file(f.path / split / "seq.in", "a b\n");
    write_file(f.path / split / "seq.out", "O O\n");
    write_file(f.path / split / "label", "x\n");
  }
  write_file(f.path / "test" / "seq.in", "a b\na b c\n");
  write_file(f.path / "test" / "seq.out", "O O\nO O O\n");
  write_file(f.path / "test" / "label", "x\nx\n");
  CHECK(read_folder(f.str(), 3).test.size() == 2);
  REQUIRE_THROWS_WITH(read_folder(f.str(), 2), Contains("test") && Contains("seq.in:2") && Contains("limit of 2"));
}

TEST_CASE("tokenize splits on spaces, strips edge punctuation, keeps spelling", "[slots][reader]") {
  CHECK(tokenize("  I'd like to leave Taipei, at 5:30 pm!  ") ==
        std::vector<std::string>{"I'd", "like", "to", "leave", "Taipei", "at", "5:30", "pm"});
  CHECK(tokenize(" ... ").empty());
  CHECK(lowercase("New York") == "new york");
}

TEST_CASE("ATIS: 4478/500/893 utterances, 120 tags in train, unseen test tags mapped to O",
          "[slots][atis]") {
  const std::string dir = test::atis_dir();
  if (dir.empty()) {
    WARN("ATIS not found under $TAPEGRAD_SHARED/data/atis: test skipped");
    return;
  }
  const SlotData d = read_folder(dir);
  CHECK(d.train.size() == 4478);
  CHECK(d.valid.size() == 500);
  CHECK(d.test.size() == 893);
  std::set<std::string> tags;
  for (const auto& u : d.train) tags.insert(u.tags.begin(), u.tags.end());
  CHECK(tags.size() == 120);

  const TagSet ts = TagSet::build(d.train);
  CHECK(ts.size() == 120);
  const EncodedSplit test = encode(d.test, Vocab::build(d.train), ts);
  // Six tag kinds of the test split never occur in train (B-booking_class,
  // B-compartment, B-flight, B-stoploc.airport_code, I-flight_number, I-state_name).
  CHECK(test.unseen_tags.size() == 6);
  CHECK(test.unseen_tags.count("B-compartment") == 1);
  CHECK_THAT(test.warning("test"), Contains("6 distinct"));
}

#include <catch2/catch.hpp>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/slots/chunks.hpp>
#include <tapegrad/datasets/slots/conlleval.hpp>

using namespace tg::slots;
using Catch::Contains;
using Tags = std::vector<std::string>;
using Chunks = std::vector<Chunk>;

namespace {
ChunkCounts score(const Tags& gold, const Tags& pred) {
  ChunkScorer s;
  s.add(gold, pred);
  return s.total();
}
}  // namespace

TEST_CASE("chunk boundaries follow conlleval", "[slots][conlleval]") {
  // B- after I- of another type, and I- after I- of another type: new chunks.
  CHECK(chunks({"B-a", "I-a", "B-b", "I-b"}) == Chunks{{"a", 0, 2}, {"b", 2, 4}});
  CHECK(chunks({"B-a", "I-a", "I-b", "O"}) == Chunks{{"a", 0, 2}, {"b", 2, 3}});
  // An I- with no B- opens a chunk, after O or at the start.
  CHECK(chunks({"O", "I-a", "I-a", "O"}) == Chunks{{"a", 1, 3}});
  CHECK(chunks({"I-a"}) == Chunks{{"a", 0, 1}});
  // B- after B- of the same type: two chunks. The sentence end closes one.
  CHECK(chunks({"B-a", "B-a", "I-a"}) == Chunks{{"a", 0, 1}, {"a", 1, 3}});
  CHECK(chunks({"O", "O"}).empty());
  REQUIRE_THROWS_WITH(chunks({"O", "E-a"}), Contains("E-a") && Contains("position 1"));
}

TEST_CASE("conlleval: exact match, all-O, wrong end, I- without B-", "[slots][conlleval]") {
  auto exact = score({"O", "B-a", "I-a", "B-b"}, {"O", "B-a", "I-a", "B-b"});
  CHECK(exact.correct == 2);
  CHECK(exact.precision() == 1.0);
  CHECK(exact.recall() == 1.0);
  CHECK(exact.f1() == 1.0);
  CHECK(exact.accuracy() == 1.0);

  // No chunks at all: conlleval reports 0, not 100, for P, R and F1.
  auto none = score({"O", "O", "O"}, {"O", "O", "O"});
  CHECK(none.gold == 0);
  CHECK(none.f1() == 0.0);
  CHECK(none.accuracy() == 1.0);

  // Right start and type, wrong end: not correct.
  auto short_end = score({"B-a", "I-a", "I-a"}, {"B-a", "I-a", "O"});
  CHECK(short_end.correct == 0);
  CHECK(short_end.precision() == 0.0);
  CHECK(short_end.accuracy() == Approx(2.0 / 3));
  auto long_end = score({"B-a", "I-a", "O"}, {"B-a", "I-a", "I-a"});
  CHECK(long_end.correct == 0);

  // I-a I-a is the same chunk as B-a I-a: chunk correct, one tag wrong.
  auto no_b = score({"B-a", "I-a"}, {"I-a", "I-a"});
  CHECK(no_b.correct == 1);
  CHECK(no_b.accuracy() == 0.5);

  // Same span, other type: wrong.
  CHECK(score({"B-a", "I-a"}, {"B-b", "I-b"}).correct == 0);
  // One gold chunk split in two predicted ones: neither is correct.
  auto split = score({"B-a", "I-a", "I-a", "I-a"}, {"B-a", "I-a", "B-a", "I-a"});
  CHECK(split.predicted == 2);
  CHECK(split.correct == 0);
}

TEST_CASE("conlleval figures over several sentences, computed by hand", "[slots][conlleval]") {
  ChunkScorer s;
  // gold dest[0,1) time[2,4); pred dest[0,1) time[2,3): 1 correct; 3/4 tags.
  s.add({"B-dest", "O", "B-time", "I-time"}, {"B-dest", "O", "B-time", "O"});
  // gold place[1,3); pred place[1,3) dest[3,4): 1 correct; 3/4 tags.
  s.add({"O", "B-place", "I-place", "O"}, {"O", "B-place", "I-place", "B-dest"});
  // gold dest[0,2); pred I-dest I-dest = dest[0,2): 1 correct; 1/2 tags.
  s.add({"B-dest", "I-dest"}, {"I-dest", "I-dest"});
  // gold time[0,1) dest[2,3); pred nothing: 0 correct; 1/3 tags.
  s.add({"B-time", "O", "B-dest"}, {"O", "O", "O"});

  const ChunkCounts& t = s.total();
  CHECK(t.gold == 6);
  CHECK(t.predicted == 5);
  CHECK(t.correct == 3);
  CHECK(t.precision() == Approx(0.6));
  CHECK(t.recall() == Approx(0.5));
  CHECK(t.f1() == Approx(6.0 / 11));  // 2 * 0.6 * 0.5 / 1.1
  CHECK(t.tokens == 13);
  CHECK(t.correct_tokens == 8);

  const auto& dest = s.by_type().at("dest");
  CHECK(dest.gold == 3);
  CHECK(dest.predicted == 3);
  CHECK(dest.correct == 2);
  CHECK(s.by_type().at("time").correct == 0);
  CHECK_THAT(s.summary(), Contains("precision 60.00") && Contains("F1 54.55"));

  REQUIRE_THROWS_WITH(s.add({"O"}, {"O", "O"}), Contains("1 gold tags but 2 predicted"));
}

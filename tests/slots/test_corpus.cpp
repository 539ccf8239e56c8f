#include <catch2/catch.hpp>

#include <set>

#include <tapegrad/datasets/slots/chunks.hpp>
#include <tapegrad/datasets/slots/ticket_corpus.hpp>

using namespace tg::slots;
using Strings = std::vector<std::string>;

namespace {
std::string key(const Utterance& u) {
  std::string k;
  for (const auto& w : u.words) k += w + ' ';
  return k;
}
std::set<std::string> keys(const std::vector<Utterance>& split) {
  std::set<std::string> s;
  for (const auto& u : split) s.insert(key(u));
  return s;
}
bool same(const std::vector<Utterance>& a, const std::vector<Utterance>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].words != b[i].words || a[i].tags != b[i].tags) return false;
  return true;
}
}  // namespace

TEST_CASE("the lecture's sentences get the lecture's tags and slots", "[slots][corpus]") {
  const auto lec = lecture_sentences();
  REQUIRE(lec.size() == 2);
  CHECK(lec[0].words == Strings{"i", "would", "like", "to", "arrive", "taipei", "on", "november", "2nd"});
  CHECK(lec[0].tags == Strings{"O", "O", "O", "O", "O", "B-dest", "O", "B-arrival_time", "I-arrival_time"});
  CHECK(lec[1].words == Strings{"leave", "taipei", "on", "november", "2nd"});
  CHECK(lec[1].tags == Strings{"O", "B-depart_place", "O", "B-depart_time", "I-depart_time"});

  // Typed text tokenises to the grammar's words once lowercased, and the
  // slots are shown in the user's spelling.
  const Strings typed = tokenize("I would like to arrive Taipei on November 2nd");
  Strings lowered;
  for (const auto& w : typed) lowered.push_back(lowercase(w));
  CHECK(lowered == lec[0].words);
  const auto slots = filled_slots(typed, lec[0].tags);
  REQUIRE(slots.size() == 2);
  CHECK(slots[0].name == "destination");
  CHECK(slots[0].value == "Taipei");
  CHECK(slots[1].name == "time of arrival");
  CHECK(slots[1].value == "November 2nd");

  const auto left = filled_slots(tokenize("leave Taipei on November 2nd"), lec[1].tags);
  REQUIRE(left.size() == 2);
  CHECK(left[0].name == "place of departure");
  CHECK(left[0].value == "Taipei");
  CHECK(left[1].name == "time of departure");
}

TEST_CASE("the corpus is deterministic given the seed, with the sizes asked", "[slots][corpus]") {
  CorpusOptions o;
  o.train = 400;
  o.valid = 50;
  o.test = 60;
  const SlotData a = make_ticket_corpus(o), b = make_ticket_corpus(o);
  CHECK(a.train.size() == 400);
  CHECK(a.valid.size() == 50);
  CHECK(a.test.size() == 60);
  CHECK(same(a.train, b.train));
  CHECK(same(a.valid, b.valid));
  CHECK(same(a.test, b.test));
  o.seed += 1;
  CHECK_FALSE(same(a.train, make_ticket_corpus(o).train));
}

TEST_CASE("default splits are disjoint and the lecture's sentences are test-only", "[slots][corpus]") {
  const SlotData d = make_ticket_corpus();
  REQUIRE(d.train.size() == 3000);
  REQUIRE(d.valid.size() == 300);
  REQUIRE(d.test.size() == 300);
  const auto tr = keys(d.train), va = keys(d.valid), te = keys(d.test);
  CHECK(tr.size() == d.train.size());  // no repeats inside a split either
  CHECK(va.size() == d.valid.size());
  CHECK(te.size() == d.test.size());
  for (const auto& k : te) CHECK(tr.count(k) + va.count(k) == 0);
  for (const auto& k : va) CHECK(tr.count(k) == 0);

  const auto lec = lecture_sentences();
  CHECK(key(d.test[0]) == key(lec[0]));
  CHECK(key(d.test[1]) == key(lec[1]));
}

TEST_CASE("the same city takes either slot, so context decides", "[slots][corpus]") {
  const SlotData d = make_ticket_corpus();
  std::set<std::string> taipei_slots, types;
  bool multi_word_city = false;
  for (const auto& u : d.train) {
    REQUIRE(u.words.size() == u.tags.size());
    for (std::size_t i = 0; i < u.words.size(); ++i)
      if (u.words[i] == "taipei") taipei_slots.insert(u.tags[i]);
    for (const auto& c : chunks(u.tags)) {
      types.insert(c.type);
      if (c.end - c.begin >= 2 && c.type == "dest" && u.words[c.begin] == "new") multi_word_city = true;
    }
  }
  CHECK(taipei_slots == std::set<std::string>{"B-dest", "B-depart_place"});
  CHECK(types == std::set<std::string>(ticket_slot_types().begin(), ticket_slot_types().end()));
  CHECK(multi_word_city);
}

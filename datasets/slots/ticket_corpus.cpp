#include <tapegrad/datasets/slots/ticket_corpus.hpp>

#include <algorithm>
#include <set>
#include <sstream>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/slots/rng.hpp>

namespace tg::slots {

namespace {

// ---- word lists ------------------------------------------------------------

const std::vector<std::string> kPrefixes = {
    "",           "i would like to", "i want to",   "i need to",     "i'd like to", "please",
    "can i",      "could i",         "i have to",   "we would like to", "i plan to", "i wish to"};
const std::vector<std::string> kSuffixes = {"", "", "", "please", "if possible", "with one ticket"};

// Verbs whose object is the destination / the place of departure.
const std::vector<std::string> kArriveVerbs = {"arrive", "arrive in", "arrive at", "get to", "reach", "land in"};
const std::vector<std::string> kLeaveVerbs = {"leave", "leave from", "depart from", "fly out of", "get out of"};
// Verbs of a whole trip, followed by "from X" and/or "to Y".
const std::vector<std::string> kTravelVerbs = {"fly", "go", "travel", "depart", "book a flight",
                                               "get a ticket"};

const std::vector<std::string> kCities = {
    "taipei",    "kaohsiung", "taichung",  "tainan",     "hualien",      "tokyo",
    "osaka",     "seoul",     "busan",     "hong kong",  "beijing",      "shanghai",
    "singapore", "bangkok",   "manila",    "hanoi",      "kuala lumpur", "ho chi minh city",
    "new delhi", "mumbai",    "dubai",     "london",     "paris",        "berlin",
    "rome",      "madrid",    "lisbon",    "vienna",     "prague",       "amsterdam",
    "new york",  "boston",    "chicago",   "seattle",    "san francisco", "los angeles",
    "las vegas", "toronto",   "vancouver", "mexico city", "sydney",      "cape town",
    "rio de janeiro", "buenos aires"};

const std::vector<std::string> kMonths = {"january", "february", "march",     "april",   "may",      "june",
                                          "july",    "august",   "september", "october", "november", "december"};
const int kMonthDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
const std::vector<std::string> kWeekdays = {"monday", "tuesday", "wednesday", "thursday",
                                            "friday", "saturday", "sunday"};
const std::vector<std::string> kClockPreps = {"at", "at", "around", "before", "after", "by"};
const std::vector<std::string> kPeriods = {"the morning", "the afternoon", "the evening"};

// ---- phrases ---------------------------------------------------------------

// A run of words with one slot type ("" = O); a sentence is a list of them.
struct Piece {
  std::string text;
  std::string slot;
};
using Phrase = std::vector<Piece>;

void append(Phrase& to, const Phrase& from) { to.insert(to.end(), from.begin(), from.end()); }

// The lecture's sentences are built from table entries looked up by value,
// so a typo here, or a word dropped from a table, fails loudly.
const std::string& entry(const std::vector<std::string>& table, const std::string& value) {
  auto it = std::find(table.begin(), table.end(), value);
  if (it == table.end()) throw Error("slots: ticket grammar has no entry '" + value + "'");
  return *it;
}

template <class T>
const T& pick(const std::vector<T>& table, Rng& rng) {
  return table[rng.below(table.size())];
}

std::string ordinal(int day) {
  const char* suffix = "th";
  if (day % 100 < 11 || day % 100 > 13) {
    if (day % 10 == 1) suffix = "st";
    if (day % 10 == 2) suffix = "nd";
    if (day % 10 == 3) suffix = "rd";
  }
  return std::to_string(day) + suffix;
}

// "on november 2nd", "on the 3rd of may", "tomorrow", "next friday", ...
Phrase date_phrase(Rng& rng, const std::string& slot) {
  const std::size_t m = rng.below(12);
  const std::string day = ordinal(1 + static_cast<int>(rng.below(kMonthDays[m])));
  switch (rng.below(8)) {
    case 0: case 1: case 2: return {{"on", ""}, {kMonths[m] + " " + day, slot}};
    case 3: case 4: return {{"on", ""}, {"the " + day + " of " + kMonths[m], slot}};
    case 5: return {{"on", ""}, {pick(kWeekdays, rng), slot}};
    case 6: return {{"next " + pick(kWeekdays, rng), slot}};
    default: return {{rng.chance(0.5) ? "tomorrow" : "today", slot}};
  }
}

// "at 5 pm", "before 10:30 am", "at noon", "in the morning", and "tonight"
// when no date comes before ("on may 3rd tonight" is not English).
Phrase clock_phrase(Rng& rng, const std::string& slot, bool after_date) {
  switch (rng.below(6)) {
    case 0: return {{"in", ""}, {pick(kPeriods, rng), slot}};
    case 1:
      if (!after_date && rng.chance(0.4)) return {{"tonight", slot}};
      return {{"at", ""}, {rng.chance(0.5) ? "noon" : "midnight", slot}};
    default: {
      std::string hour = std::to_string(1 + rng.below(12));
      if (rng.chance(0.3)) hour += rng.chance(0.5) ? ":30" : ":15";
      return {{pick(kClockPreps, rng), ""}, {hour + (rng.chance(0.5) ? " am" : " pm"), slot}};
    }
  }
}

// When: a date, a clock time, or a date then a clock time.
Phrase when_phrase(Rng& rng, const std::string& slot) {
  const std::size_t k = rng.below(5);
  Phrase p;
  if (k <= 2) append(p, date_phrase(rng, slot));
  if (k >= 2) append(p, clock_phrase(rng, slot, k == 2));
  return p;
}

Phrase maybe_when(Rng& rng, const std::string& slot, double p) {
  return rng.chance(p) ? when_phrase(rng, slot) : Phrase{};
}

// "arrive taipei ..." / "leave taipei ...": the verb decides the slots.
Phrase arrive_clause(const std::string& verb, const std::string& city, const Phrase& when) {
  Phrase p = {{verb, ""}, {city, "dest"}};
  append(p, when);
  return p;
}
Phrase leave_clause(const std::string& verb, const std::string& city, const Phrase& when) {
  Phrase p = {{verb, ""}, {city, "depart_place"}};
  append(p, when);
  return p;
}

// "fly from taipei to tokyo", "go to tokyo from taipei", "travel to tokyo".
Phrase trip_clause(Rng& rng) {
  const std::string& from = pick(kCities, rng);
  std::string to = pick(kCities, rng);
  while (to == from) to = pick(kCities, rng);
  const std::string& verb = pick(kTravelVerbs, rng);
  Phrase p = {{verb, ""}};
  // "depart to tokyo" is not English: "depart" always names its origin.
  switch (verb == "depart" ? 0 : rng.below(4)) {
    case 0: case 1: append(p, {{"from", ""}, {from, "depart_place"}, {"to", ""}, {to, "dest"}}); break;
    case 2: append(p, {{"to", ""}, {to, "dest"}, {"from", ""}, {from, "depart_place"}}); break;
    default: append(p, {{"to", ""}, {to, "dest"}}); break;
  }
  return p;
}

// Sentence := prefix core suffix, where core is one of five shapes.
Phrase sentence(Rng& rng) {
  Phrase s;
  const std::string& prefix = pick(kPrefixes, rng);
  if (!prefix.empty()) s.push_back({prefix, ""});
  switch (rng.below(10)) {
    case 0: case 1: case 2:  // arrive taipei on november 2nd
      append(s, arrive_clause(pick(kArriveVerbs, rng), pick(kCities, rng), maybe_when(rng, "arrival_time", 0.85)));
      break;
    case 3: case 4: case 5:  // leave taipei on november 2nd
      append(s, leave_clause(pick(kLeaveVerbs, rng), pick(kCities, rng), maybe_when(rng, "depart_time", 0.85)));
      break;
    case 6: case 7:  // fly from taipei to tokyo on november 2nd
      append(s, trip_clause(rng));
      append(s, maybe_when(rng, "depart_time", 0.7));
      break;
    case 8: {  // leave taipei at 9 am and arrive (in tokyo) at 5 pm
      const std::string& from = pick(kCities, rng);
      append(s, leave_clause(pick(kLeaveVerbs, rng), from, maybe_when(rng, "depart_time", 0.7)));
      s.push_back({"and", ""});
      if (rng.chance(0.5)) {
        append(s, arrive_clause(pick(kArriveVerbs, rng), pick(kCities, rng), maybe_when(rng, "arrival_time", 0.7)));
      } else {
        s.push_back({"arrive", ""});
        append(s, when_phrase(rng, "arrival_time"));
      }
      break;
    }
    default:  // fly to tokyo leaving on may 3rd and arriving at 5 pm
      append(s, trip_clause(rng));
      s.push_back({"leaving", ""});
      append(s, when_phrase(rng, "depart_time"));
      if (rng.chance(0.6)) {
        s.push_back({"and arriving", ""});
        append(s, when_phrase(rng, "arrival_time"));
      }
      break;
  }
  const std::string& suffix = pick(kSuffixes, rng);
  if (!suffix.empty()) s.push_back({suffix, ""});
  return s;
}

// Pieces -> words and BIO tags.
Utterance realize(const Phrase& phrase) {
  Utterance u;
  u.intent = "book_ticket";
  for (const Piece& piece : phrase) {
    std::istringstream in(piece.text);
    std::string w;
    bool first = true;
    while (in >> w) {
      u.words.push_back(w);
      u.tags.push_back(piece.slot.empty() ? "O" : (first ? "B-" : "I-") + piece.slot);
      first = false;
    }
  }
  return u;
}

std::string key(const Utterance& u) {
  std::string k;
  for (const auto& w : u.words) k += w + ' ';
  return k;
}

}  // namespace

const std::vector<std::string>& ticket_slot_types() {
  static const std::vector<std::string> types = {"dest", "depart_place", "arrival_time", "depart_time"};
  return types;
}

std::vector<Utterance> lecture_sentences() {
  const Phrase on_nov_2 = {{"on", ""}, {entry(kMonths, "november") + " " + ordinal(2), ""}};
  auto when = [&](const std::string& slot) {
    Phrase p = on_nov_2;
    p[1].slot = slot;
    return p;
  };
  Phrase first = {{entry(kPrefixes, "i would like to"), ""}};
  append(first, arrive_clause(entry(kArriveVerbs, "arrive"), entry(kCities, "taipei"), when("arrival_time")));
  const Phrase second = leave_clause(entry(kLeaveVerbs, "leave"), entry(kCities, "taipei"), when("depart_time"));
  return {realize(first), realize(second)};
}

SlotData make_ticket_corpus(const CorpusOptions& options) {
  Rng rng(options.seed);
  SlotData data;
  std::set<std::string> seen;
  const std::vector<Utterance> lecture = lecture_sentences();
  for (const auto& u : lecture) seen.insert(key(u));
  for (std::size_t i = 0; i < lecture.size() && i < options.test; ++i) data.test.push_back(lecture[i]);

  // Distinct sentences, in the order drawn; a split takes the next ones, so
  // no sentence lands in two splits.
  const std::size_t wanted = options.train + options.valid + options.test;
  const std::size_t max_draws = 20 * wanted + 1000;
  std::size_t draws = 0;
  auto fill = [&](std::vector<Utterance>& split, std::size_t n) {
    while (split.size() < n) {
      if (++draws > max_draws)
        throw Error("slots: ticket corpus: only " + std::to_string(seen.size()) +
                    " distinct sentences after " + std::to_string(max_draws) + " draws; asked for " +
                    std::to_string(wanted));
      Utterance u = realize(sentence(rng));
      if (seen.insert(key(u)).second) split.push_back(std::move(u));
    }
  };
  fill(data.train, options.train);
  fill(data.valid, options.valid);
  fill(data.test, options.test);
  return data;
}

}  // namespace tg::slots

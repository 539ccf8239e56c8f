// The slot-filling app: the lecture's sentences after a short training, a
// learning check on a slice of ATIS, masking, errors, --save/--load/--tag.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "apps/slot_filling/slot_app.hpp"
#include "datasets/slots/ticket_corpus.hpp"

namespace fs = std::filesystem;
using namespace tg::slotapp;
namespace slots = tg::slots;

namespace {

struct RunResult {
  int code;
  std::string out, err;
};

RunResult run_app(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), "slot_filling");
  std::istringstream in(input);
  std::ostringstream out, err;
  const int code = run(args, in, out, err);
  return {code, out.str(), err.str()};
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tapegrad_slot_app_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// "destination: Taipei" lines of a sentence, from the model's own tags.
std::vector<std::string> slot_lines(SlotModel& m, const std::string& sentence) {
  const auto words = slots::tokenize(sentence);
  std::vector<std::string> out;
  for (const auto& f : slots::filled_slots(words, tag_words(m, words))) out.push_back(f.name + ": " + f.value);
  return out;
}

TrainConfig small_config() {
  TrainConfig c;
  c.model.embed = 24;
  c.model.hidden = 32;
  c.model.dropout = 0.1;
  c.epochs = 3;
  c.batch = 16;
  c.lr = 5e-3;
  c.word_dropout = 0.05;
  c.seed = 3;
  return c;
}

slots::SlotData first(const slots::SlotData& d, std::size_t train, std::size_t valid, std::size_t test) {
  slots::SlotData s;
  s.train.assign(d.train.begin(), d.train.begin() + std::min(train, d.train.size()));
  s.valid.assign(d.valid.begin(), d.valid.begin() + std::min(valid, d.valid.size()));
  s.test.assign(d.test.begin(), d.test.begin() + std::min(test, d.test.size()));
  return s;
}

}  // namespace

TEST_CASE("built-in corpus: a short training fills the lecture's slots", "[slot_app]") {
  slots::CorpusOptions opt;
  opt.train = 1000;
  opt.valid = 100;
  opt.test = 100;
  const slots::SlotData data = slots::make_ticket_corpus(opt);
  TrainConfig cfg = small_config();
  cfg.epochs = 4;
  SlotModel m = make_model(data, cfg.model, cfg.seed);

  // Untrained, the tagger does not fill them (so the checks below can fail).
  CHECK(evaluate(m, data.test).total().f1() < 0.5);

  const TrainResult r = train(m, data, cfg, {}, {});
  REQUIRE(r.epochs.size() == cfg.epochs);
  CHECK(r.epochs.back().loss < r.epochs.front().loss);
  const double test_f1 = evaluate(m, data.test).total().f1();
  INFO("valid F1 " << r.best_valid_f1 << ", test F1 " << test_f1);
  CHECK(r.best_valid_f1 >= 0.95);
  CHECK(test_f1 >= 0.95);

  CHECK(slot_lines(m, "I would like to arrive Taipei on November 2nd") ==
        std::vector<std::string>{"destination: Taipei", "time of arrival: November 2nd"});
  const auto leave = slot_lines(m, "leave Taipei on November 2nd");
  REQUIRE_FALSE(leave.empty());
  CHECK(leave[0] == "place of departure: Taipei");
  CHECK(leave == std::vector<std::string>{"place of departure: Taipei", "time of departure: November 2nd"});
}

TEST_CASE("ATIS slice: a short training reaches an F1 only a learning model reaches", "[slot_app][atis]") {
  const char* shared = std::getenv("TAPEGRAD_SHARED");
  const fs::path dir = fs::path(shared ? shared : "../shared") / "data" / "atis";
  if (!fs::exists(dir / "train" / "seq.in")) {
    WARN("ATIS not found at " << dir.string() << " (set TAPEGRAD_SHARED): test skipped");
    return;
  }
  const slots::SlotData data = first(slots::read_folder(dir.string()), 1000, 200, 893);
  TrainConfig cfg = small_config();
  cfg.model.embed = 32;
  cfg.model.hidden = 48;
  cfg.epochs = 4;
  SlotModel m = make_model(data, cfg.model, cfg.seed);
  const double before = evaluate(m, data.test).total().f1();
  const TrainResult r = train(m, data, cfg, {}, {});
  const slots::ChunkScorer s = evaluate(m, data.test);
  INFO("untrained F1 " << before << ", valid F1 " << r.best_valid_f1 << ", test " << s.summary());
  CHECK(before < 0.2);
  CHECK(s.total().f1() >= 0.7);
  // Scored against the original tags: the 6 test tokens whose tag train
  // never shows are gold chunks the model cannot get.
  CHECK(s.total().gold > s.total().correct);
}

TEST_CASE("padding never changes a sentence's tag scores", "[slot_app]") {
  const slots::SlotData data = slots::make_ticket_corpus({7, 50, 5, 5});
  for (bool bidir : {true, false}) {
    ModelConfig mc;
    mc.embed = 8;
    mc.hidden = 6;
    mc.layers = 2;
    mc.bidirectional = bidir;
    SlotModel m = make_model(data, mc, 11);
    m.tagger->set_training(false);
    tg::Rng rng(0);
    const auto ids_short = m.vocab.encode(slots::tokenize("leave taipei on november 2nd"));
    const auto ids_long = m.vocab.encode(slots::tokenize("i would like to arrive taipei on november 2nd"));
    xt::xarray<std::int64_t> alone = xt::xarray<std::int64_t>::from_shape({ids_short.size(), std::size_t{1}});
    xt::xarray<std::int64_t> both = xt::zeros<std::int64_t>({ids_long.size(), std::size_t{2}});
    for (std::size_t t = 0; t < ids_short.size(); ++t) alone(t, 0) = both(t, 1) = ids_short[t];
    for (std::size_t t = 0; t < ids_long.size(); ++t) both(t, 0) = ids_long[t];
    auto g = m.tape->no_grad();
    const tg::Tensor<float> a = m.tagger->forward(alone, {ids_short.size()}, rng).value();
    const tg::Tensor<float> b = m.tagger->forward(both, {ids_long.size(), ids_short.size()}, rng).value();
    for (std::size_t t = 0; t < ids_short.size(); ++t)
      for (std::size_t c = 0; c < a.shape()[2]; ++c) REQUIRE(b(t, 1, c) == Approx(a(t, 0, c)).margin(1e-5));
  }
}

TEST_CASE("length buckets: every sentence once a epoch, little padding, a new order each epoch", "[slot_app]") {
  std::vector<std::size_t> lengths;
  slots::Rng gen(1);
  for (int i = 0; i < 2000; ++i) lengths.push_back(1 + gen.below(40));
  slots::Rng rng(9);
  const auto e1 = length_buckets(lengths, 16, rng), e2 = length_buckets(lengths, 16, rng);
  CHECK(e1 != e2);
  std::size_t padded = 0, real = 0;
  std::vector<int> seen(lengths.size(), 0);
  for (const auto& b : e1) {
    REQUIRE(!b.empty());
    REQUIRE(b.size() <= 16);
    std::size_t longest = 0;
    for (std::size_t i : b) {
      ++seen.at(i);
      longest = std::max(longest, lengths[i]);
      real += lengths[i];
    }
    padded += longest * b.size();
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  CHECK(double(padded) / double(real) < 1.1);  // random batches of 16: about 1.85
  slots::Rng again(9);
  CHECK(length_buckets(lengths, 16, again) == e1);
}

TEST_CASE("a tag count that differs from the token count: exit 1 naming file and line", "[slot_app]") {
  const fs::path dir = temp_dir("bad");
  for (const char* split : {"train", "valid", "test"}) {
    fs::create_directories(dir / split);
    std::ofstream(dir / split / "seq.in") << "fly to boston\nleave denver today\n";
    std::ofstream(dir / split / "seq.out")
        << "O O B-toloc\n" << (std::string(split) == "train" ? "O B-fromloc\n" : "O B-fromloc B-date\n");
    std::ofstream(dir / split / "label") << "flight\nflight\n";
  }
  const RunResult r = run_app({"--data", dir.string(), "--epochs", "1"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains((dir / "train" / "seq.out").string() + ":2:"));
  CHECK_THAT(r.err, Catch::Contains("2 tags for 3 tokens"));
  fs::remove_all(dir);
}

TEST_CASE("usage and load errors", "[slot_app]") {
  CHECK(run_app({"--bidirectional", "--unidirectional"}).code == 2);
  CHECK(run_app({"--cell", "transformer"}).code == 2);
  CHECK(run_app({"--hidden", "0"}).code == 2);
  CHECK(run_app({"--load", "x.ckpt"}).code == 2);  // neither --tag nor --data
  const RunResult r = run_app({"--load", "/nonexistent/x.ckpt", "--tag", "fly to boston"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("/nonexistent/x.ckpt"));
}

TEST_CASE("save, then load and tag: the same tags, from a sentence or stdin", "[slot_app]") {
  const fs::path dir = temp_dir("roundtrip");
  const std::string ckpt = (dir / "m.ckpt").string(), csv = (dir / "m.csv").string();
  const RunResult trained = run_app({"--epochs", "2", "--embed", "16", "--hidden", "24", "--unidirectional",
                                     "--cell", "gru", "--seed", "5", "--save", ckpt, "--metrics", csv,
                                     "--tag", "leave Taipei on November 2nd"});
  INFO(trained.err);
  REQUIRE(trained.code == 0);
  CHECK_THAT(trained.out, Catch::Contains("epoch   2/2"));
  CHECK_THAT(trained.out, Catch::Contains("test: precision"));
  REQUIRE(fs::exists(ckpt));
  REQUIRE(fs::exists(vocab_path(ckpt)));
  REQUIRE(fs::exists(tags_path(ckpt)));
  {
    std::ifstream f(csv);
    std::string header, row, extra;
    std::getline(f, header);
    CHECK(header == "epoch,loss,valid_f1,epoch_seconds");
    int rows = 0;
    while (std::getline(f, row)) rows += !row.empty();
    CHECK(rows == 2);
  }
  // The tags printed after training are those of the saved (best) model.
  const std::string sentence = "leave Taipei on November 2nd";
  SlotModel m = load(ckpt);
  CHECK(m.tagger->config.cell == "gru");
  CHECK_FALSE(m.tagger->config.bidirectional);
  const auto words = slots::tokenize(sentence);
  const std::string expected = "> " + sentence + "\n" + tagging_report(words, tag_words(m, words));
  CHECK_THAT(trained.out, Catch::EndsWith(expected));

  const RunResult one = run_app({"--load", ckpt, "--tag", sentence});
  REQUIRE(one.code == 0);
  CHECK_THAT(one.out, Catch::EndsWith(expected));

  const std::string other = "I would like to arrive Taipei on November 2nd";
  const auto other_words = slots::tokenize(other);
  const RunResult piped = run_app({"--load", ckpt, "--tag"}, sentence + "\n\n" + other + "\n");
  REQUIRE(piped.code == 0);
  CHECK_THAT(piped.out, Catch::EndsWith(expected + "> " + other + "\n" +
                                        tagging_report(other_words, tag_words(m, other_words))));
  fs::remove_all(dir);
}

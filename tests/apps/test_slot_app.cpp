// The slot-filling app (apps/slot_filling): the lecture's sentences after a
// short training, a learning check on a slice of ATIS, masking, the batch
// plan, checkpoints (evaluate, resume bit for bit, best-on-valid state,
// vocabulary and tag files tied by sha256, a non-finite run), and the
// command line (flags, exit codes, --tag from arguments and stdin).
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/slot_filling/slot_app.hpp"
#include <tapegrad/datasets/slots/ticket_corpus.hpp>
#include "tests/apps/app_exe.hpp"  // run_exe, longest_line, write_poisoned_copy
#include "tests/apps/torch_export.hpp"

namespace fs = std::filesystem;
using namespace tg;
using namespace tg::slotapp;

namespace {

// A frame parsed from flags, as the executable builds it; the settings it
// fills live beside it.
struct App {
  app::Frame frame{"slot_filling", "test"};
  Settings settings;
  // `small`: the test's model and schedule (embedding 24, hidden 32,
  // dropout 0.1, lr 5e-3, seed 3, 3 epochs) before `args`.
  explicit App(std::vector<std::string> args, bool small = true) {
    add_flags(frame, settings);
    if (small)
      args.insert(args.begin(), {"--embed", "24", "--hidden", "32", "--dropout", "0.1", "--lr", "5e-3",
                                 "--seed", "3", "--epochs", "3"});
    args.insert(args.begin(), {"slot_filling", "--quiet"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    frame.parse(int(argv.size()), argv.data());
    resolve_defaults(frame, settings);
  }
  RunResult run(const slots::SlotData& data, const std::string& input = "") {
    std::istringstream in(input);
    return slotapp::run(settings, frame, data, in, nullptr, nullptr);
  }
};

const slots::SlotData& corpus() {
  static const slots::SlotData d = slots::make_ticket_corpus({20240501, 1000, 100, 100});
  return d;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tapegrad_slot_app_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The rows of a metrics CSV without their last column (train_seconds).
std::vector<std::string> rows_without_time(const std::string& path) {
  std::vector<std::string> rows = lines_of(slurp(path));
  for (auto& r : rows) r = r.substr(0, r.rfind(','));
  return rows;
}

using test::Exe;

// Runs the executable with these arguments (each quoted for the shell) and
// `input` on its standard input.
Exe run_exe(const std::vector<std::string>& args, const std::string& input = "") {
  const data::test::TmpDir dir;
  std::ofstream(dir / "stdin") << input;
  std::string line;
  for (const auto& a : args) {
    std::string quoted;
    for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += " '" + quoted + "'";
  }
  return test::run_exe(SLOT_FILLING_EXE, line + " < " + (dir / "stdin").string());
}

// "destination: Taipei" lines of a sentence, from the model's own tags.
std::vector<std::string> slot_lines(SlotModel& m, const std::string& sentence) {
  const auto words = slots::tokenize(sentence);
  std::vector<std::string> out;
  for (const auto& f : slots::filled_slots(words, tag_words(m, words)))
    out.push_back(f.name + ": " + f.value);
  return out;
}

std::string tagged(SlotModel& m, const std::string& sentence) {
  const auto words = slots::tokenize(sentence);
  return "> " + sentence + "\n" + tagging_report(words, tag_words(m, words));
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
  App app({"--epochs", "4"});
  // Untrained, the tagger does not fill them (so the checks below can fail).
  SlotModel untrained = make_model(corpus(), app.settings.model(0, 0), 3);
  CHECK(evaluate(untrained, corpus().test).total().f1() < 0.5);

  RunResult r = app.run(corpus());
  REQUIRE(r.rows.size() == 4);  // an evaluation at each epoch end
  CHECK(r.rows.back().loss < r.rows.front().loss);
  CHECK(r.first_step == 0);
  CHECK(r.last_step == r.rows.back().step);
  REQUIRE(r.scored);
  INFO("valid F1 " << r.best_valid_f1 << ", test " << r.test.summary());
  CHECK(r.best_valid_f1 >= 0.95);
  CHECK(r.test.total().f1() >= 0.95);

  CHECK(slot_lines(r.model, "I would like to arrive Taipei on November 2nd") ==
        std::vector<std::string>{"destination: Taipei", "time of arrival: November 2nd"});
  CHECK(slot_lines(r.model, "leave Taipei on November 2nd") ==
        std::vector<std::string>{"place of departure: Taipei", "time of departure: November 2nd"});
  // Without --data and --tag, the run tags the lecture's two sentences.
  REQUIRE(r.tagged.size() == 2);
  CHECK(r.tagged[1] == tagged(r.model, "leave Taipei on November 2nd"));
}

TEST_CASE("ATIS slice: a short training reaches an F1 only a learning model reaches", "[slot_app][atis]") {
  const char* shared = std::getenv("TAPEGRAD_SHARED");
  const fs::path dir = fs::path(shared ? shared : "../shared") / "data" / "atis";
  if (!fs::exists(dir / "train" / "seq.in")) {
    WARN("ATIS not found at " << dir.string() << " (set TAPEGRAD_SHARED): test skipped");
    return;
  }
  const slots::SlotData data = first(slots::read_folder(dir.string()), 1000, 200, 893);
  App app({"--embed", "32", "--hidden", "48", "--epochs", "4"});
  SlotModel untrained = make_model(data, app.settings.model(0, 0), 3);
  const double before = evaluate(untrained, data.test).total().f1();
  const RunResult r = app.run(data);
  INFO("untrained F1 " << before << ", valid F1 " << r.best_valid_f1 << ", test " << r.test.summary());
  CHECK(before < 0.2);
  CHECK(r.test.total().f1() >= 0.7);
  // Scored against the original tags: the 6 test tokens whose tag train
  // never shows are gold chunks the model cannot get.
  CHECK(r.test.total().gold > r.test.total().correct);
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
    m.tagger->eval();
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

TEST_CASE("length buckets: every sentence once a epoch, little padding, a new order each epoch",
          "[slot_app]") {
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

TEST_CASE("bidirectional true/false (--bidirectional) changes the model", "[slot_app][cli]") {
  auto names = [](const App& app) {
    SlotModel m = make_model(corpus(), app.settings.model(0, 0), 1);
    std::vector<std::string> out;
    for (const auto& p : m.tagger->named_parameters()) out.push_back(p.name);
    return std::make_pair(out, m.tagger->output.weight.shape()[0] * m.tagger->output.weight.shape()[1]);
  };
  const App both({}), forward({"--bidirectional=false"}), off({"--bidirectional=off"}),
      on({"--bidirectional=TRUE"});
  CHECK(both.settings.bidirectional);
  CHECK_FALSE(forward.settings.bidirectional);
  CHECK_FALSE(off.settings.bidirectional);
  CHECK(on.settings.bidirectional);
  const auto [two_ways, out2] = names(both);
  const auto [one_way, out1] = names(forward);
  CHECK(std::count(two_ways.begin(), two_ways.end(), "rnn.l0.bwd.weight_ih") == 1);
  CHECK(std::count(one_way.begin(), one_way.end(), "rnn.l0.bwd.weight_ih") == 0);
  CHECK(std::count(one_way.begin(), one_way.end(), "rnn.l0.fwd.weight_ih") == 1);
  CHECK(two_ways.size() > one_way.size());
  CHECK(out2 == 2 * out1);  // the output layer reads both directions
  CHECK_THROWS_WITH(App({"--bidirectional", "maybe"}), Catch::Contains("maybe"));
  CHECK(App({"--bidirectional"}).settings.bidirectional);  // a bare flag, as in every app
  CHECK_THROWS_AS(App({"--bidirectional", "false"}), app::UsageError);  // no separate word
}

TEST_CASE("an empty valid or test split is an error naming it", "[slot_app]") {
  slots::SlotData no_valid = corpus(), no_test = corpus();
  no_valid.valid.clear();
  no_test.test.clear();
  CHECK_THROWS_WITH(App({"--epochs", "1"}).run(no_valid), Catch::Contains("valid split is empty"));
  CHECK_THROWS_WITH(App({"--epochs", "1"}).run(no_test), Catch::Contains("test split is empty"));
}

TEST_CASE("checkpoints: evaluate-only, bit-identical resume, best-on-valid state, settings",
          "[slot_app][checkpoint]") {
  const fs::path dir = temp_dir("ckpt");
  const std::string half = (dir / "half.st").string(), whole = (dir / "whole.st").string();
  const std::string half_csv = (dir / "half.csv").string(), whole_csv = (dir / "whole.csv").string();
  // Dropout and word dropout on; an evaluation every 16 steps (63 a epoch).
  // A constant rate: the half run ends early by --steps, which would give a
  // cosine another length (a resume with the same command is exact with the
  // cosine too: tests/train/test_schedule_keep.cpp).
  RunResult straight = App({"--epochs", "6", "--schedule", "constant", "--eval-every", "16", "--save", whole,
                            "--metrics", whole_csv})
                           .run(corpus());
  REQUIRE(straight.rows.size() > 16);
  // The half run ends at the straight run's best evaluation, so the resumed
  // run must restore a best-so-far state that no later evaluation beats (a
  // run that forgot it would take the next evaluation as its best).
  REQUIRE(straight.best_step < straight.last_step);
  const std::size_t mid = straight.best_step;
  App({"--steps", std::to_string(mid), "--schedule", "constant", "--eval-every", "16", "--save", half,
       "--metrics", half_csv})
      .run(corpus());

  SECTION("--eval-only gives the figures of the run that saved it; the model comes from the file") {
    App e({"--load", whole, "--eval-only"}, /*small=*/false);
    CHECK(e.settings.hidden == 32);
    CHECK(e.settings.dropout == 0.1);
    const RunResult again = e.run(corpus());
    CHECK(again.rows.empty());
    CHECK(again.first_step == straight.last_step);
    CHECK(again.last_step == straight.last_step);
    CHECK(again.best_step == straight.best_step);
    CHECK(again.best_valid_f1 == straight.best_valid_f1);
    REQUIRE(again.scored);
    CHECK(again.test.summary() == straight.test.summary());
  }
  SECTION("--load trains on to --epochs, byte for byte the uninterrupted run") {
    const RunResult resumed =
        App({"--load", half, "--epochs", "6", "--eval-every", "16", "--save", half, "--metrics", half_csv},
            false)
            .run(corpus());
    CHECK(resumed.first_step == mid);
    CHECK(resumed.last_step == straight.last_step);
    const bool same_checkpoint = slurp(half) == slurp(whole);  // (no byte dump when they differ)
    CHECK(same_checkpoint);
    CHECK(slurp(half + ".vocab") == slurp(whole + ".vocab"));
    CHECK(slurp(half + ".tags") == slurp(whole + ".tags"));
    CHECK(rows_without_time(half_csv) == rows_without_time(whole_csv));
    CHECK(resumed.best_step == straight.best_step);
    CHECK(resumed.test.summary() == straight.test.summary());
  }
  SECTION("a setting that differs from the checkpoint's is a usage error, unless allowed") {
    CHECK_THROWS_AS(App({"--load", half, "--hidden", "16"}, false), app::UsageError);
    CHECK_THROWS_WITH(App({"--load", half, "--lr", "0.1"}, false),
                      Catch::Contains("--lr") && Catch::Contains("--allow-changes"));
    CHECK_THROWS_WITH(App({"--load", half, "--bidirectional=false"}, false),
                      Catch::Contains("--bidirectional"));
    CHECK_THROWS_AS(App({"--load", half, "--random-batches"}, false), app::UsageError);
    CHECK_NOTHROW(App({"--load", half, "--lr", "0.1", "--allow-changes"}, false));
    CHECK_NOTHROW(
        App({"--load", half, "--lr", "0.005", "--bidirectional=on"}, false));  // spelled otherwise
    CHECK(App({"--load", half}, false).settings.embed == 24);
  }
  SECTION("--load with --tag only tags, with the best weights") {
    App t({"--load", whole, "--tag", "leave Taipei on November 2nd", "--tag", "fly to Kaohsiung"}, false);
    const RunResult r = t.run(slots::SlotData{});  // no data needed
    CHECK(r.rows.empty());
    CHECK_FALSE(r.scored);
    REQUIRE(r.tagged.size() == 2);
    CHECK(r.tagged[0] == tagged(straight.model, "leave Taipei on November 2nd"));
    CHECK(r.tagged[1] == tagged(straight.model, "fly to Kaohsiung"));
    CHECK_FALSE(needs_data(t.frame, t.settings));
    CHECK_THROWS_AS(App({"--load", whole, "--tag", "x", "--save", half}, false), app::UsageError);
  }
  SECTION("the .tags and .vocab files are tied to the checkpoint by their sha256") {
    const std::string tags = slurp(whole + ".tags");
    std::vector<std::string> lines = lines_of(tags);
    std::swap(lines[2], lines[3]);  // two tags swapped: same size, other ids
    std::string swapped;
    for (const auto& l : lines) swapped += l + "\n";
    std::ofstream(whole + ".tags") << swapped;
    CHECK_THROWS_WITH(App({"--load", whole, "--tag", "fly"}, false).run({}),
                      Catch::Contains(whole + ".tags") && Catch::Contains("sha256"));
    CHECK_THROWS_WITH(App({"--load", whole, "--eval-only"}, false).run(corpus()),
                      Catch::Contains(whole + ".tags"));
    std::ofstream(whole + ".tags") << tags;
    std::ofstream(whole + ".vocab", std::ios::app) << "zzz\n";
    CHECK_THROWS_WITH(App({"--load", whole, "--tag", "fly"}, false).run({}),
                      Catch::Contains(whole + ".vocab") && Catch::Contains("sha256"));
  }
  SECTION("resuming on other data is refused") {
    const slots::SlotData other = slots::make_ticket_corpus({99, 1000, 100, 100});
    CHECK_THROWS_WITH(App({"--load", half, "--epochs", "6"}, false).run(other),
                      Catch::Contains("other vocabulary"));
  }
  fs::remove_all(dir);
}

TEST_CASE("early stopping: --patience N evaluations without a better valid F1, also on resume",
          "[slot_app][checkpoint]") {
  const fs::path dir = temp_dir("patience");
  const std::string path = (dir / "p.st").string();
  const RunResult r =
      App({"--epochs", "40", "--eval-every", "16", "--patience", "2", "--save", path}).run(corpus());
  CHECK(r.stopped_early);
  REQUIRE(r.rows.size() >= 3);
  CHECK(r.rows.back().step == r.best_step + 2 * 16);
  CHECK(r.last_step < 40 * 63);
  const RunResult again = App({"--load", path, "--epochs", "40"}, false).run(corpus());
  CHECK(again.rows.empty());  // nothing left to train: the patience had run out
  CHECK(again.stopped_early);
  CHECK(again.last_step == r.last_step);
  fs::remove_all(dir);
}

TEST_CASE("a non-finite run stops with an error and keeps the last checkpoint", "[slot_app][nan]") {
  const fs::path dir = temp_dir("nan");
  const std::string path = (dir / "good.st").string();
  const RunResult good_run = App({"--epochs", "1", "--save", path}).run(corpus());
  const std::string good = slurp(path);
  CHECK_THROWS_AS(App({"--lr", "inf"}), app::UsageError);  // not even parsed
  // A checkpoint with one NaN weight (written around the guard of ckpt::save),
  // its vocabulary and tag files beside it.
  const std::string poisoned = (dir / "nan.st").string();
  test::write_poisoned_copy(path, poisoned, "model.output.weight", 3);
  fs::copy_file(path + ".vocab", poisoned + ".vocab");
  fs::copy_file(path + ".tags", poisoned + ".tags");
  App bad({"--load", poisoned, "--epochs", "2", "--save", path}, false);
  CHECK_THROWS_WITH(bad.run(corpus()), Catch::Contains("step " + std::to_string(good_run.last_step + 1)) &&
                                           Catch::Contains("nan"));
  const bool kept = slurp(path) == good;
  CHECK(kept);
  fs::remove_all(dir);
}

TEST_CASE("settings out of range are usage errors", "[slot_app][cli]") {
  CHECK_THROWS_WITH(App({"--cell", "transformer"}), Catch::Contains("transformer"));
  CHECK_THROWS_AS(App({"--hidden", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--hidden", "1000000000"}), app::UsageError);
  CHECK_THROWS_AS(App({"--embed", "100000"}), app::UsageError);
  CHECK_THROWS_AS(App({"--layers", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--batch", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--dropout", "1"}), app::UsageError);
  CHECK_THROWS_AS(App({"--word-dropout", "-0.1"}), app::UsageError);
  CHECK_THROWS_AS(App({"--lr", "nan"}), app::UsageError);
  CHECK_THROWS_AS(App({"--patience", "-1"}), app::UsageError);
  CHECK_THROWS_AS(App({"--eval-only"}), app::UsageError);  // needs --load
  CHECK_THROWS_AS(App({"--tag"}), app::UsageError);        // needs a sentence or '-'
}

TEST_CASE("the defaults that depend on the data", "[slot_app][cli]") {
  const App built_in({}, false), with_data({"--data", "somewhere"}, false), given({"--hidden", "20"}, false);
  CHECK(built_in.settings.embed == 32);
  CHECK(built_in.settings.hidden == 64);
  CHECK(built_in.settings.lr == 5e-3);
  CHECK(built_in.frame.flags().epochs == 6);
  CHECK(with_data.settings.embed == 100);
  CHECK(with_data.settings.hidden == 160);
  CHECK(with_data.settings.dropout == 0.5);
  CHECK(with_data.frame.flags().epochs == 50);
  CHECK(given.settings.hidden == 20);
  // What the checkpoint stores: the values used.
  CHECK(built_in.frame.meta()["config"]["--embed"] == "32");
  CHECK(built_in.frame.meta()["config"]["--clip"] == "5");
}

TEST_CASE("the executable: help, exit codes, one error prefix", "[slot_app][cli]") {
  const Exe help = run_exe({"--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("--bidirectional") && Catch::Contains("--tag"));
  CHECK(test::longest_line(help.out) <= 80);
  const fs::path dir = temp_dir("flags");
  const std::string text = (dir / "notes.txt").string();
  std::ofstream(text) << "not a checkpoint\n";
  // The shared flags' bad values, in every app: test_shared_flags.cpp. Here
  // the ones this app adds or sets its own bounds for.
  const std::vector<std::vector<std::string>> bad = {
      {"--lr", "inf"},
      {"--clip", "-1"},
      {"--clip", "nan"},
      {"--hidden", "1000000000"},
      {"--bidirectional", "2"},
      {"--epochs", "0"},
      {"--save", text},
      {"--metrics", text},
      {"--tag"},
  };
  for (const auto& args : bad) {
    const Exe r = run_exe(args);
    INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("slot_filling: error: "));
  }
  // A missing checkpoint fails at start-up, naming it.
  const Exe missing = run_exe({"--load", (dir / "absent.st").string(), "--tag", "fly to boston"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("absent.st"));
  fs::remove_all(dir);
}

TEST_CASE("a tag count that differs from the token count: exit 1 naming file and line", "[slot_app]") {
  const fs::path dir = temp_dir("bad");
  for (const char* split : {"train", "valid", "test"}) {
    fs::create_directories(dir / split);
    std::ofstream(dir / split / "seq.in") << "fly to boston\nleave denver today\n";
    std::ofstream(dir / split / "seq.out")
        << "O O B-toloc\n"
        << (std::string(split) == "train" ? "O B-fromloc\n" : "O B-fromloc B-date\n");
    std::ofstream(dir / split / "label") << "flight\nflight\n";
  }
  const Exe r = run_exe({"--data", dir.string(), "--epochs", "1"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains((dir / "train" / "seq.out").string() + ":2:"));
  CHECK_THAT(r.err, Catch::Contains("2 tags for 3 tokens"));
  CHECK_THAT(r.err, Catch::StartsWith("slot_filling: error: slots: "));  // one prefix
  fs::remove_all(dir);
}

TEST_CASE("save, then load and tag: the same tags, from a sentence or stdin", "[slot_app]") {
  const fs::path dir = temp_dir("roundtrip");
  const std::string ckpt = (dir / "m.st").string(), csv = (dir / "m.csv").string();
  const std::string sentence = "leave Taipei on November 2nd";
  const Exe trained =
      run_exe({"--epochs", "2", "--embed", "16", "--hidden", "24", "--bidirectional=false", "--cell",
               "gru", "--seed", "5", "--save", ckpt, "--metrics", csv, "--tag", sentence});
  INFO(trained.err);
  REQUIRE(trained.code == 0);
  CHECK_THAT(trained.out, Catch::Contains("epoch  2  loss"));
  CHECK_THAT(trained.out, Catch::Contains("unidirectional gru"));
  CHECK_THAT(trained.out, Catch::Contains("test: precision"));
  REQUIRE(fs::exists(ckpt));
  REQUIRE(fs::exists(vocab_path(ckpt)));
  REQUIRE(fs::exists(tags_path(ckpt)));
  const std::vector<std::string> rows = lines_of(slurp(csv));
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == "step,epoch,loss,valid_f1,train_seconds");

  // The tags printed after training are those of the saved (best) weights.
  const App loaded({"--load", ckpt, "--tag", sentence}, false);
  CHECK(loaded.settings.cell == "gru");
  CHECK_FALSE(loaded.settings.bidirectional);
  SlotModel m = load(ckpt, loaded.settings);
  const std::string expected = tagged(m, sentence);
  CHECK_THAT(trained.out, Catch::EndsWith(expected));

  const Exe one = run_exe({"--load", ckpt, "--tag", sentence});
  REQUIRE(one.code == 0);
  CHECK_THAT(one.out, Catch::EndsWith(expected));
  CHECK_THAT(one.out, !Catch::Contains("loss"));  // nothing trained

  const std::string other = "I would like to arrive Taipei on November 2nd";
  const Exe piped = run_exe({"--load", ckpt, "--tag", "-"}, sentence + "\n\n" + other + "\n");
  REQUIRE(piped.code == 0);
  CHECK_THAT(piped.out, Catch::EndsWith(expected + tagged(m, other)));
  fs::remove_all(dir);
}

TEST_CASE("slot filling: --export-torch writes the best weights, the ones scored", "[apps][slots][torch]") {
  const fs::path dir = temp_dir("export");
  const std::string st = (dir / "m.st").string(), pt = (dir / "m.safetensors").string();
  App app({"--epochs", "2", "--cell", "gru", "--save", st, "--export-torch", pt});
  const RunResult r = app.run(corpus());
  Tape<float> tape;
  Rng rng(1);
  Tagger model(tape, r.model.tagger->config, rng);
  test::check_export(pt, model, st, "model.best.");
  const std::string modules = load_safetensors(pt).metadata.at("torch_modules");
  INFO(modules);
  CHECK(modules.find("\"rnn\":\"nn.GRU(input_size=24, hidden_size=32, bidirectional=True)\"") !=
        std::string::npos);
  CHECK(modules.find("\"output\":\"nn.Linear(64, ") != std::string::npos);
  fs::remove_all(dir);
}

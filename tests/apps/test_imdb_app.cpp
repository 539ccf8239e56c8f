// The IMDB app (apps/imdb_lstm) end to end on a small synthetic reviews.json
// with an obvious signal: load -> vocabulary -> train -> evaluate,
// checkpoints with their vocabulary (evaluate, resume bit for bit with
// dropout, predict), the errors of a mismatched checkpoint, and the command
// line.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "apps/imdb_lstm/imdb_app.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/io/safetensors.hpp>
#include "tests/apps/imdb_files.hpp"  // write_reviews
#include "tests/apps/torch_export.hpp"
#include "tests/apps/imdb_files.hpp"

using namespace tg;
namespace fs = std::filesystem;

namespace {

// A folder of this process for one test (`name`); the reviews have their own.
fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tapegrad_imdb_app_" + std::to_string(::getpid())) / name;
  fs::create_directories(d);
  return d;
}

const fs::path& reviews() {
  static const fs::path file = test::write_reviews(temp_dir("data"), 800, 11);
  return file;
}

// A frame parsed from flags, as the executable builds it; the settings it
// fills live beside it, and run() trains on the synthetic reviews.
struct App {
  app::Frame frame{"imdb_lstm", "test"};
  imdb::Settings settings;
  data::Imdb data;
  // `small`: the protocol's model (--protocol) at the test's size and
  // schedule (vocab 100, maxlen 24, embed and hidden 16, batch 16: 25 steps
  // per epoch, lr 1e-2, 3 epochs, seed 7) before `args`.
  explicit App(std::vector<std::string> args, bool small = true) {
    imdb::add_flags(frame, settings);
    if (small)
      args.insert(args.begin(), {"--protocol", "--vocab", "100", "--maxlen", "24", "--embed", "16", "--hidden", "16",
                                 "--batch", "16", "--lr", "1e-2", "--epochs", "3", "--seed", "7",
                                 "--eval-batch", "64"});
    args.insert(args.begin(), {"imdb_lstm", "--quiet", "--data", reviews().string()});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    frame.parse(int(argv.size()), argv.data());
    imdb::resolve_checkpoint_settings(frame);  // as main() does
  }
  imdb::RunResult run() {
    data = imdb::load_data(frame.flags().data, settings);
    imdb::resolve_valid(frame, data.train.size());  // as main() does
    return imdb::run(settings, frame, data, nullptr);
  }
  // predict_only's lines.
  std::string predict() {
    std::FILE* out = std::tmpfile();
    REQUIRE(out);
    imdb::predict_only(settings, frame, out);
    std::rewind(out);
    std::string text;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) text.append(buf, n);
    std::fclose(out);
    return text;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The rows of a metrics CSV without its last column (train_seconds).
std::vector<std::string> rows_without_time(const std::string& path) {
  std::vector<std::string> rows;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

}  // namespace

TEST_CASE("imdb app: a small LSTM learns the synthetic sentiment", "[apps][imdb]") {
  const std::string path = (temp_dir("learn") / "learn.st").string();
  App a({"--save", path});
  const imdb::RunResult r = a.run();
  const data::Imdb& d = a.data;
  REQUIRE(d.train.size() == 400);
  REQUIRE(d.test.size() == 400);
  CHECK(d.vocab.id("great") >= 2);
  CHECK(d.vocab.id("don't") >= 2);
  // 400 / 16: 25 steps per epoch, one evaluation per epoch; the loss falls
  // from chance.
  CHECK(r.batches_per_epoch == 25);
  CHECK(r.first_step == 0);
  CHECK(r.last_step == 75);
  REQUIRE(r.rows.size() == 3);
  CHECK(r.rows[0].step == 25);
  CHECK(r.rows[2].epoch == 3);
  CHECK(r.rows.back().loss < 0.5 * r.rows[0].loss);
  CHECK(r.train_seconds > 0);
  INFO("train acc " << r.train_acc << ", test acc " << r.test_acc);
  CHECK(r.train_acc >= 0.9);
  CHECK(r.test_acc >= 0.9);
  // One embedding row per id, and the padding row never moves.
  const Checkpoint file = load_safetensors(path);
  const TensorEntry& emb = file.tensors.at("model.embedding.weight");
  REQUIRE(emb.shape == Shape{d.vocab.size(), 16});
  const float* row0 = reinterpret_cast<const float*>(emb.bytes.data());
  for (std::size_t j = 0; j < 16; ++j) CHECK(row0[j] == 0.0f);
}

TEST_CASE("imdb app: the masked, stacked, bidirectional variants learn too", "[apps][imdb]") {
  std::vector<std::string> args = {"--mask"};
  SECTION("masked") {}
  SECTION("masked, 2 layers, bidirectional, dropout") {
    args.insert(args.end(), {"--layers", "2", "--bidirectional", "--dropout", "0.2"});
  }
  const imdb::RunResult r = App(args).run();
  INFO("test acc " << r.test_acc);
  CHECK(r.test_acc >= 0.9);
}

TEST_CASE("imdb app: --steps N trains N batches, --eval none and test skip accuracies",
          "[apps][imdb]") {
  SECTION("a quick timing: 5 steps, no evaluation") {
    const imdb::RunResult r = App({"--steps", "5", "--eval", "none"}).run();
    CHECK(r.last_step == 5);
    REQUIRE(r.rows.size() == 1);
    CHECK(r.rows[0].values.empty());
    CHECK(r.train_acc == -1);
    CHECK(r.test_acc == -1);
  }
  SECTION("across an epoch's end: evaluated there and at the last step") {
    const imdb::RunResult r = App({"--steps", "30", "--eval", "test"}).run();
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0].step == 25);
    CHECK(r.rows[1].step == 30);
    CHECK(r.rows[1].epoch == 2);
    REQUIRE(r.rows[1].values.size() == 1);
    CHECK(r.rows[1].values[0].first == "test_acc");
    CHECK(r.train_acc == -1);
    CHECK(r.test_acc >= 0);
  }
}

TEST_CASE("imdb app: checkpoints: evaluate-only, predict, bit-identical resume with dropout",
          "[apps][imdb][checkpoint]") {
  const fs::path dir = temp_dir("checkpoints");
  const std::string half = (dir / "half.st").string(), whole = (dir / "whole.st").string();
  const std::string half_csv = (dir / "half.csv").string(), whole_csv = (dir / "whole.csv").string();
  // Dropout between the layers and before the Linear: the masks must be
  // drawn alike after a resume. Evaluations (and checkpoints) every 15
  // steps: the half run stops in the middle of epoch 2.
  const std::vector<std::string> model = {"--layers", "2", "--dropout", "0.3", "--eval-every", "15"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), model.begin(), model.end());
    return more;
  };
  App(with({"--steps", "45", "--save", half, "--metrics", half_csv})).run();
  const imdb::RunResult straight = App(with({"--steps", "90", "--save", whole, "--metrics", whole_csv})).run();
  REQUIRE(fs::exists(imdb::vocab_path(whole)));
  CHECK(ckpt::read_meta(whole)["vocab_sha256"] == data::sha256_file(imdb::vocab_path(whole)));

  SECTION("--load trains on to --steps, byte for byte the uninterrupted run") {
    // The same command plus --load (the schedule is not a setting of the
    // checkpoint: --eval-every is given again).
    App resumed({"--load", half, "--steps", "90", "--eval-every", "15", "--save", half, "--metrics",
                 half_csv},
                false);
    CHECK(resumed.settings.layers == 2);  // from the checkpoint
    CHECK(resumed.settings.dropout == 0.3);
    const imdb::RunResult r = resumed.run();
    CHECK(r.first_step == 45);
    CHECK(r.last_step == 90);
    CHECK(slurp(half) == slurp(whole));
    CHECK(slurp(imdb::vocab_path(half)) == slurp(imdb::vocab_path(whole)));
    CHECK(rows_without_time(half_csv) == rows_without_time(whole_csv));
    CHECK(rows_without_time(half_csv).size() == 7);  // header + 6 evaluations
    CHECK(r.test_acc == straight.test_acc);
  }
  SECTION("--eval-only gives the figures of the run that saved it, and trains nothing") {
    App e({"--load", whole, "--eval-only"}, false);
    CHECK(e.settings.hidden == 16);
    const std::string before = slurp(whole);
    const imdb::RunResult r = e.run();
    CHECK(r.first_step == 90);
    CHECK(r.last_step == 90);
    CHECK(r.train_acc == straight.train_acc);
    CHECK(r.test_acc == straight.test_acc);
    CHECK(slurp(whole) == before);
  }
  SECTION("--predict classifies new texts with the checkpoint and its vocabulary") {
    App p({"--load", whole, "--predict", "A wonderful film, I loved the story and the music!",
           "--predict", "Boring. The plot was awful and the actors were terrible.", "--predict",
           "The movie was great.", "--predict", "It was dull."},
          false);
    CHECK(p.settings.predict.size() == 4);
    const std::string out = p.predict();
    INFO(out);
    CHECK_THAT(out, Catch::Contains("positive  A wonderful film"));
    CHECK_THAT(out, Catch::Contains("negative  Boring. The plot"));
    CHECK_THAT(out, Catch::Contains("positive  The movie was great."));
    CHECK_THAT(out, Catch::Contains("negative  It was dull."));
    // It only classifies: nothing to evaluate, save or log.
    for (const char* other : {"--eval-only", "--save", "--metrics"}) {
      std::vector<std::string> args = {"--load", whole, "--predict", "fine", other};
      if (std::string(other) != "--eval-only") args.push_back((dir / "out").string());
      CHECK_THROWS_AS(App(args, false).predict(), app::UsageError);
    }
  }
  SECTION("a setting that differs from the checkpoint's is a usage error, unless allowed") {
    CHECK_THROWS_AS(App({"--load", half, "--hidden", "32"}, false), app::UsageError);
    CHECK_THROWS_AS(App({"--load", half, "--mask"}, false), app::UsageError);
    CHECK_THROWS_WITH(App({"--load", half, "--lr", "0.1"}, false),
                      Catch::Contains("--lr") && Catch::Contains("--allow-changes"));
    CHECK_NOTHROW(App({"--load", half, "--lr", "0.1", "--allow-changes"}, false));
    CHECK_NOTHROW(App({"--load", half, "--lr", "0.01"}, false));  // the same value, spelled otherwise
    CHECK_NOTHROW(App({"--load", half, "--eval", "none", "--eval-batch", "7"}, false));  // free
  }
  fs::remove_all(dir);
}

TEST_CASE("imdb app: a non-finite run stops with an error and keeps the last checkpoint",
          "[apps][imdb][nan]") {
  const fs::path dir = temp_dir("nan");
  const std::string path = (dir / "good.st").string();
  App({"--steps", "20", "--save", path}).run();
  const std::string good = slurp(path), good_vocab = slurp(imdb::vocab_path(path));
  CHECK_THROWS_AS(App({"--lr", "inf"}), app::UsageError);  // not even parsed
  // A checkpoint with one NaN weight (written around the guard of ckpt::save),
  // with its vocabulary.
  const std::string poisoned = (dir / "nan.st").string();
  Checkpoint file = load_safetensors(path);
  float* w = reinterpret_cast<float*>(file.tensors.at("model.head.weight").bytes.data());
  w[3] = NAN;
  save_safetensors(poisoned, file);
  fs::copy_file(imdb::vocab_path(path), imdb::vocab_path(poisoned));
  App bad({"--load", poisoned, "--steps", "40", "--save", path}, false);
  CHECK_THROWS_AS(bad.run(), train::TrainingError);
  CHECK_THROWS_WITH(App({"--load", poisoned, "--steps", "40", "--save", path}, false).run(),
                    Catch::Contains("step 21") && Catch::Contains("nan"));
  CHECK(slurp(path) == good);
  CHECK(slurp(imdb::vocab_path(path)) == good_vocab);
  fs::remove_all(dir);
}

TEST_CASE("imdb app: a mismatched checkpoint is a clear error", "[apps][imdb][checkpoint]") {
  const fs::path dir = temp_dir("mismatch");
  const std::string path = (dir / "small.st").string();
  App saved({"--vocab", "30", "--steps", "1", "--save", path});
  saved.run();
  const nlohmann::json meta = ckpt::read_meta(path);

  SECTION("weights loaded into a model of another shape") {
    imdb::Settings other = saved.settings;
    other.hidden = 8;
    Rng rng(1);
    imdb::Model m(other, saved.data.vocab.size(), rng);
    CHECK_THROWS_WITH(ckpt::load<float>(path, m.named_parameters(), nullptr),
                      Catch::Contains("model.rnn.l0.fwd.weight_ih") && Catch::Contains("shape"));
  }
  SECTION("a vocabulary that is not the checkpoint's: an error naming both files") {
    data::Vocab(std::vector<std::string>{"alpha", "beta"}).save(imdb::vocab_path(path));
    CHECK_THROWS_WITH(imdb::load_vocab(path, meta), Catch::Contains(path + ".vocab") &&
                                                        Catch::Contains(path + " ") &&
                                                        Catch::Contains("belongs to another model"));
    CHECK_THROWS_WITH(App({"--load", path, "--predict", "fine"}, false).predict(),
                      Catch::Contains("belongs to another model"));
    CHECK_THROWS_WITH(App({"--load", path, "--eval-only"}, false).run(),
                      Catch::Contains("belongs to another model"));
  }
  SECTION("a missing vocabulary") {
    fs::remove(imdb::vocab_path(path));
    CHECK_THROWS_WITH(App({"--load", path, "--predict", "fine"}, false).predict(),
                      Catch::Contains("is missing"));
  }
  SECTION("data that give another vocabulary") {
    CHECK_THROWS_WITH(App({"--load", path, "--vocab", "20", "--allow-changes"}, false).run(),
                      Catch::Contains("differs from the one of the checkpoint"));
  }
  SECTION("another app's checkpoint") {
    nlohmann::json other = meta;
    other["app"] = "mnist_rnn";
    const std::string p = (dir / "other.st").string();
    Rng rng(1);
    imdb::Model m(saved.settings, saved.data.vocab.size(), rng);
    ckpt::save<float>(p, m.named_parameters(), nullptr, other);
    CHECK_THROWS_WITH(App({"--load", p, "--eval-only"}, false), Catch::Contains("not of imdb_lstm"));
  }
  SECTION("a checkpoint whose metadata lacks a setting") {
    nlohmann::json lacking = meta;
    lacking["config"].erase("--hidden");
    const std::string p = (dir / "nohidden.st").string();
    Rng rng(1);
    imdb::Model m(saved.settings, saved.data.vocab.size(), rng);
    ckpt::save<float>(p, m.named_parameters(), nullptr, lacking);
    fs::copy_file(imdb::vocab_path(path), imdb::vocab_path(p));
    CHECK_THROWS_WITH(App({"--load", p, "--eval-only"}, false).run(), Catch::Contains("config/--hidden"));
    CHECK_THROWS_WITH(App({"--load", p, "--predict", "fine"}, false).predict(),
                      Catch::Contains("config/--hidden"));
  }
  fs::remove_all(dir);
}

TEST_CASE("imdb app: settings out of range are usage errors", "[apps][imdb][cli]") {
  CHECK_THROWS_AS(App({"--hidden", "1000000000"}), app::UsageError);
  CHECK_THROWS_AS(App({"--vocab", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--dropout", "1"}), app::UsageError);
  CHECK_THROWS_AS(App({"--lr", "nan"}), app::UsageError);
  CHECK_THROWS_AS(App({"--eval", "sometimes"}), app::UsageError);
  CHECK_THROWS_AS(App({"--eval-only"}), app::UsageError);  // needs --load
  CHECK_THROWS_AS(App({"--predict", "x"}), app::UsageError);  // needs --load
  CHECK_THROWS_AS(App({"--batch", "401"}).run(), app::UsageError);  // more than the 400 reviews
}

#ifdef TAPEGRAD_IMDB_LSTM_EXE
namespace {
struct Cmd {
  int status;
  std::string out;  // stdout and stderr
};
Cmd run(const std::string& args) {
  const std::string cmd = std::string(TAPEGRAD_IMDB_LSTM_EXE) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}
// The exit status and stderr alone.
Cmd run_stderr(const std::string& args) {
  const std::string err = (temp_dir("cli") / "stderr.txt").string();
  const int st = std::system((std::string(TAPEGRAD_IMDB_LSTM_EXE) + " " + args + " > /dev/null 2> " + err).c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(err)};
}
}  // namespace

TEST_CASE("imdb_lstm executable: train, save, predict, exit codes", "[apps][imdb][cli]") {
  const fs::path dir = temp_dir("cli_train");
  const std::string ckpt = (dir / "cli.safetensors").string();
  const std::string csv = (dir / "cli.csv").string();
  const Cmd train = run("--data " + reviews().string() +
                        " --vocab 100 --maxlen 24 --embed 16 --hidden 16 --batch 16 --lr 0.01"
                        " --epochs 3 --seed 7 --save " + ckpt + " --metrics " + csv);
  INFO(train.out);
  REQUIRE(train.status == 0);
  CHECK_THAT(train.out, Catch::Contains("first training review (label"));
  CHECK_THAT(train.out, Catch::Contains("epoch 3: train loss"));
  // The recipe's defaults: a tenth of the 400 training reviews held out
  // (23 steps per epoch), a masked bidirectional LSTM averaged over time.
  CHECK_THAT(train.out, Catch::Contains("validation: 40 of the 400 training reviews"));
  CHECK_THAT(train.out, Catch::Contains("LSTM(16,16,1 layer(s), bidirectional, masked)"));
  CHECK_THAT(train.out, Catch::Contains("RESULT name=imdb_lstm impl=tapegrad layers=1 epochs=3 steps=69"));
  CHECK_THAT(train.out, Catch::Contains(" test_acc="));
  CHECK_THAT(train.out, Catch::Contains(" epoch_seconds="));
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  CHECK(header == "step,epoch,loss,train_acc,valid_acc,test_acc,train_seconds");

  const Cmd pred = run("--load " + ckpt +
                       " --predict 'what a wonderful great film' --predict 'awful and boring'");
  INFO(pred.out);
  REQUIRE(pred.status == 0);
  CHECK_THAT(pred.out, Catch::Contains("positive  what a wonderful great film"));
  CHECK_THAT(pred.out, Catch::Contains("negative  awful and boring"));
  const Cmd stdin_pred = run("--load " + ckpt + " --predict - <<'EOF'\nloved it, great\nawful\nEOF\n");
  CHECK(stdin_pred.status == 0);
  CHECK_THAT(stdin_pred.out, Catch::Contains("positive  loved it, great"));
  CHECK_THAT(stdin_pred.out, Catch::Contains("negative  awful"));

  const Cmd mismatch = run("--load " + ckpt + " --hidden 32 --predict 'fine'");
  CHECK(mismatch.status == 2);
  CHECK_THAT(mismatch.out, Catch::Contains("--hidden 32 differs from the checkpoint's 16"));

  CHECK(run("--predict 'no checkpoint'").status == 2);
  CHECK(run("--layers two").status == 2);
  CHECK(run("--load " + (dir / "absent.safetensors").string() + " --predict x").status == 1);
  // A quick timing: 10 steps, no evaluation, no epoch_seconds (not a whole epoch).
  const Cmd quick = run("--data " + reviews().string() + " --vocab 100 --maxlen 24 --embed 16 --hidden 16"
                        " --batch 16 --steps 10 --eval none --quiet");
  CHECK(quick.status == 0);
  CHECK_THAT(quick.out, Catch::Contains("RESULT name=imdb_lstm impl=tapegrad layers=1 epochs=1 steps=10 "));
  CHECK_THAT(quick.out, !Catch::Contains("test_acc=") && !Catch::Contains("epoch_seconds="));
}

TEST_CASE("imdb_lstm executable: every shared flag with a bad value is a usage error",
          "[apps][imdb][cli]") {
  const fs::path dir = temp_dir("cli_flags");
  const std::string mine = (dir / "notes.txt").string();
  std::ofstream(mine) << "my notes\n";
  for (const std::string& args : std::vector<std::string>{"--data", "--seed -1", "--seed x", "--threads 0", "--threads 257", "--steps many",
        "--steps -1", "--epochs -1", "--epochs 0 --steps 0", "--eval-every 1.5", "--clip -1",
        "--clip nan", "--clip inf", "--lr inf", "--save " + mine, "--metrics " + mine,
        "--load " + mine + " --allow-changes=maybe", "--eval-only", "--quiet=maybe",
        "--no-such-flag", "--hidden 1000000000"}) {
    INFO(args);
    const Cmd c = run_stderr(args);
    CHECK(c.status == 2);
    CHECK_THAT(c.out, Catch::StartsWith("imdb_lstm: error: "));
  }
  CHECK(slurp(mine) == "my notes\n");
  // A checkpoint that cannot be read fails at start-up, before any data is read.
  CHECK(run_stderr("--load " + (dir / "absent.st").string() + " --eval-only").status == 1);
  CHECK(run_stderr("--load " + mine).status == 1);
}

TEST_CASE("imdb_lstm executable: --help", "[apps][imdb][cli]") {
  const Cmd help = run("--help");
  CHECK(help.status == 0);
  std::istringstream lines(help.out);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.size() <= 80);
  }
  CHECK_THAT(help.out, Catch::Contains("--predict") && Catch::Contains("--eval ") &&
                           Catch::Contains("docs/apps.md") && Catch::Contains("exit codes"));
}
#endif

TEST_CASE("imdb app: --export-torch writes the trained model, and with --predict the loaded one",
          "[apps][imdb][torch]") {
  const fs::path dir = temp_dir("export");
  const std::string st = (dir / "m.st").string(), pt = (dir / "m.safetensors").string();
  App a({"--epochs", "1", "--bidirectional", "--save", st, "--export-torch", pt});
  a.run();
  Rng rng(1);
  imdb::Model model(a.settings, a.data.vocab.size(), rng);
  test::check_export(pt, model, st);
  const std::string modules = load_safetensors(pt).metadata.at("torch_modules");
  CHECK(modules.find("\"embedding\":\"nn.Embedding(") != std::string::npos);
  CHECK(modules.find(", padding_idx=0)") != std::string::npos);
  CHECK(modules.find("\"rnn\":\"nn.LSTM(input_size=16, hidden_size=16, bidirectional=True)\"") !=
        std::string::npos);
  CHECK(modules.find("\"head\":\"nn.Linear(32, 1)\"") != std::string::npos);

  // A checkpoint converted without its data: --predict reads only the file.
  const std::string again = (dir / "again.safetensors").string();
  App p({"--load", st, "--predict", "a wonderful film", "--export-torch", again}, false);
  CHECK(p.predict().find("exported the model for PyTorch to " + again) != std::string::npos);
  CHECK(slurp(again) == slurp(pt));
}

TEST_CASE("imdb app: evaluation with the projected vocabulary gives the logits of the full forward",
          "[apps][imdb]") {
  for (std::size_t layers : {1, 2}) {
    INFO(layers << " layer(s)");
    imdb::Settings s;
    s.vocab = 30;
    s.maxlen = 9;
    s.embed = 8;
    s.hidden = 6;
    s.layers = layers;
    Rng rng(4);
    imdb::Model model(s, s.vocab + 2, rng);
    // Left-padded ids, lengths 0..9.
    const std::vector<int> lengths = {9, 0, 4, 9, 1, 6, 3};
    Tensor<std::int64_t> ids = tg::zeros<std::int64_t>(Shape{s.maxlen, lengths.size()});
    for (std::size_t b = 0; b < lengths.size(); ++b)
      for (std::size_t t = s.maxlen - std::size_t(lengths[b]); t < s.maxlen; ++t)
        ids(t, b) = 1 + std::int64_t(rng() % (s.vocab + 1));
    auto logits = [&] {
      auto no_grad = model.tape.no_grad();
      Tensor<float> z = model.logits(ids, lengths, false, nullptr).value();
      model.tape.clear();
      return z;
    };
    const Tensor<float> full = logits();
    Tensor<float> looked_up;
    {
      const imdb::ProjectedVocabulary projected(model);
      looked_up = logits();
    }
    REQUIRE(xt::allclose(looked_up, full, 1e-5, 1e-6));
    // A different model under the same ids: the table is rebuilt, not kept.
    for (Var<float>& p : model.parameters()) p.value() *= 0.5f;
    const Tensor<float> halved = logits();
    REQUIRE_FALSE(xt::allclose(halved, full, 1e-5, 1e-6));
    const imdb::ProjectedVocabulary projected(model);
    REQUIRE(xt::allclose(logits(), halved, 1e-5, 1e-6));
  }
}

TEST_CASE("imdb app: --valid N holds out N training reviews by a fixed rule", "[apps][imdb][valid]") {
  data::ImdbSplit train;
  train.maxlen = 2;
  for (int i = 0; i < 10; ++i) {  // review i: ids (0, i + 2), length 1, label i < 5 (sorted, as IMDB's)
    train.ids.insert(train.ids.end(), {0, i + 2});
    train.lengths.push_back(1);
    train.labels.push_back(i < 5 ? 1.0f : 0.0f);
  }
  const imdb::TrainValid tv = imdb::carve_valid(train, 4);  // reviews 0, 2, 5, 7: floor(k * 10 / 4)
  REQUIRE(tv.valid.size() == 4);
  REQUIRE(tv.train.size() == 6);
  CHECK(tv.valid.ids == std::vector<std::int32_t>{0, 2, 0, 4, 0, 7, 0, 9});
  CHECK(tv.valid.labels == std::vector<float>{1, 1, 0, 0});  // both classes, though sorted
  CHECK(tv.train.ids == std::vector<std::int32_t>{0, 3, 0, 5, 0, 6, 0, 8, 0, 10, 0, 11});
  CHECK(tv.train.lengths == std::vector<int>(6, 1));
  CHECK(imdb::carve_valid(train, 1).valid.ids == std::vector<std::int32_t>{0, 2});
  CHECK_THROWS_WITH(imdb::carve_valid(train, 10), Catch::Contains("--valid 10") && Catch::Contains("has 10"));
  CHECK_THROWS_AS(App({"--valid", "390"}).run(), app::UsageError);  // 10 left for --batch 16
}

TEST_CASE("imdb app: --valid keeps the epoch with the best valid accuracy, its weights and its test figure",
          "[apps][imdb][valid]") {
  const fs::path dir = temp_dir("valid");
  const std::string all = (dir / "all.st").string(), upto = (dir / "upto.st").string();
  // A high learning rate, so that the valid accuracy moves between epochs.
  const std::vector<std::string> run = {"--valid", "100", "--lr", "0.05", "--epochs", "4", "--dropout", "0.3"};
  std::vector<std::string> args = run;
  args.insert(args.end(), {"--save", all});
  const imdb::RunResult r = App(args).run();
  CHECK(r.batches_per_epoch == 19);  // 300 reviews left to train on, batches of 16
  REQUIRE(r.rows.size() == 4);
  std::size_t best = 0;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const train::Metrics& m = r.rows[i].values;
    REQUIRE(m.size() == 3);
    CHECK(m[0].first == "train_acc");
    CHECK(m[1].first == "valid_acc");
    CHECK(m[2].first == "test_acc");
    if (m[1].second > r.rows[best].values[1].second) best = i;  // the first of equals
  }
  INFO("best epoch " << best + 1);
  CHECK(r.best_epoch == best + 1);
  CHECK(r.best_step == r.rows[best].step);
  CHECK(r.valid_acc == r.rows[best].values[1].second);
  CHECK(r.train_acc == r.rows[best].values[0].second);
  CHECK(r.test_acc == r.rows[best].values[2].second);  // the chosen epoch's, not the last

  // The checkpoint's chosen weights are that epoch's: an evaluation of the
  // checkpoint and predictions equal those of a run stopped there.
  const imdb::RunResult e = App({"--load", all, "--eval-only"}, false).run();
  CHECK(e.valid_acc == r.valid_acc);
  CHECK(e.test_acc == r.test_acc);
  args = run;
  args.insert(args.end(), {"--steps", std::to_string(r.best_step), "--save", upto});
  App(args).run();
  auto predictions = [](const std::string& path) {
    return App({"--load", path, "--predict", "a great film", "--predict", "the plot was dull and boring",
                "--predict", "the music"},
               false)
        .predict();
  };
  CHECK(predictions(all) == predictions(upto));
  // Without --valid: no valid accuracy, the last evaluation is the result.
  const imdb::RunResult plain = App({"--epochs", "1"}).run();
  CHECK(plain.valid_acc == -1);
  CHECK(plain.rows.back().values.size() == 2);
  fs::remove_all(dir);
}

TEST_CASE("imdb app: --valid across a resume: the same choice and figures as the uninterrupted run",
          "[apps][imdb][valid][checkpoint]") {
  const fs::path dir = temp_dir("valid_resume");
  const std::string part = (dir / "part.st").string(), whole = (dir / "whole.st").string();
  const std::vector<std::string> run = {"--valid", "100", "--lr", "0.05", "--dropout", "0.3"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), run.begin(), run.end());
    return more;
  };
  const imdb::RunResult straight = App(with({"--epochs", "4", "--save", whole})).run();
  // Stopped after the best epoch, or before it: the resumed process either
  // has not seen the best evaluation (its test figure is scored again on the
  // restored weights) or finds it itself.
  for (std::size_t stop : {straight.best_epoch, straight.best_epoch - 1}) {
    if (stop == 0 || stop == 4) continue;
    INFO("stopped after epoch " << stop << " (the best: " << straight.best_epoch << ")");
    App(with({"--epochs", std::to_string(stop), "--save", part})).run();
    const imdb::RunResult r = App({"--load", part, "--epochs", "4", "--save", part}, false).run();
    CHECK(r.first_step == stop * 19);
    CHECK(r.best_epoch == straight.best_epoch);
    CHECK(r.valid_acc == straight.valid_acc);
    CHECK(r.test_acc == straight.test_acc);
    CHECK(r.train_acc == straight.train_acc);
    CHECK(slurp(part) == slurp(whole));
  }
  fs::remove_all(dir);
}

TEST_CASE("imdb app: --schedule cosine lowers the learning rate to --min-lr over the run",
          "[apps][imdb][schedule]") {
  const fs::path dir = temp_dir("schedule");
  auto saved = [&](const std::string& name, std::vector<std::string> args) {
    const std::string path = (dir / name).string();
    args.insert(args.end(), {"--steps", "40", "--eval", "none", "--save", path});
    App(args).run();
  };
  auto tensors = [](const std::string& name) {  // the weights alone (the settings differ)
    const Checkpoint c = load_safetensors(name);
    std::string bytes;
    for (const auto& [key, t] : c.tensors)
      if (key.rfind("model.", 0) == 0) bytes.append(t.bytes.begin(), t.bytes.end());
    return bytes;
  };
  saved("constant.st", {});
  saved("flat.st", {"--schedule", "cosine", "--min-lr", "0.01"});  // --lr 1e-2 throughout
  saved("cosine.st", {"--schedule", "cosine"});
  CHECK(tensors((dir / "flat.st").string()) == tensors((dir / "constant.st").string()));
  CHECK(tensors((dir / "cosine.st").string()) != tensors((dir / "constant.st").string()));
  fs::remove_all(dir);
}

TEST_CASE("imdb app: --pool max and mean learn, and the checkpoint keeps the pooling",
          "[apps][imdb][pool]") {
  const fs::path dir = temp_dir("pool");
  for (const std::string pool : {"max", "mean"})
    for (const bool mask : {true, false}) {
      INFO("--pool " << pool << (mask ? " --mask" : ""));
      const std::string path = (dir / (pool + ".st")).string();
      std::vector<std::string> args = {"--pool", pool, "--bidirectional", "--save", path};
      if (mask) args.push_back("--mask");
      const imdb::RunResult trained = App(args).run();
      CHECK(trained.test_acc >= 0.9);
      App loaded({"--load", path, "--eval-only"}, false);
      CHECK(loaded.settings.pool == pool);
      CHECK(loaded.run().test_acc == trained.test_acc);
    }
  fs::remove_all(dir);
}

TEST_CASE("imdb app: a checkpoint from before --pool and --embed-dropout loads as the final state's model",
          "[apps][imdb][pool][checkpoint]") {
  const fs::path dir = temp_dir("pool_old");
  const std::string path = (dir / "old.st").string();
  const imdb::RunResult trained = App({"--save", path, "--steps", "30"}).run();
  // Take "--pool" out of the saved settings, as a checkpoint written before the flag.
  Checkpoint c = load_safetensors(path);
  nlohmann::json meta = nlohmann::json::parse(c.metadata.at(ckpt::kMetaKey));
  for (const char* flag : {"--pool", "--embed-dropout"}) REQUIRE(meta["config"].erase(flag) == 1);
  c.metadata[ckpt::kMetaKey] = meta.dump();
  save_safetensors(path, c);
  App loaded({"--load", path, "--eval-only"}, false);
  CHECK(loaded.settings.pool == "last");
  CHECK(loaded.settings.embed_dropout == 0);
  CHECK(loaded.run().test_acc == trained.test_acc);
  // A checkpoint that records its pooling refuses another one (usage error).
  const std::string pooled = (dir / "max.st").string();
  App({"--pool", "max", "--save", pooled, "--steps", "5"}).run();
  CHECK_THROWS_AS(App({"--load", pooled, "--eval-only", "--pool", "mean"}, false), app::UsageError);
  fs::remove_all(dir);
}

TEST_CASE("imdb app: the defaults are the recipe, --protocol the homework's settings", "[apps][imdb][protocol]") {
  const imdb::Settings recipe;
  CHECK(recipe.mask);
  CHECK(recipe.bidirectional);
  CHECK(recipe.pool == "mean");
  CHECK(recipe.dropout == 0.5);
  CHECK(recipe.schedule == "cosine");
  CHECK(recipe.lr == imdb::kRecipeLr);
  const std::string data = reviews().string();
  App defaults({"--epochs", "1"}, false);
  CHECK(defaults.settings.mask);
  defaults.run();
  CHECK(defaults.settings.valid == 40);  // a tenth of the 400 training reviews
  App protocol({"--protocol", "--hidden", "8"}, false);
  const imdb::Settings& p = protocol.settings;
  CHECK_FALSE(p.mask);
  CHECK_FALSE(p.bidirectional);
  CHECK(p.pool == "last");
  CHECK(p.dropout == 0);
  CHECK(p.valid == 0);
  CHECK(p.schedule == "constant");
  CHECK(p.lr == 1e-3);
  CHECK(p.hidden == 8);
  // A flag beside --protocol wins over it.
  CHECK(App({"--protocol", "--bidirectional"}, false).settings.bidirectional);
  CHECK(App({"--protocol", "--pool", "max"}, false).settings.pool == "max");
}

TEST_CASE("imdb app: --protocol with a checkpoint of the recipe is a usage error, with its own it resumes",
          "[apps][imdb][protocol][checkpoint]") {
  const fs::path dir = temp_dir("protocol");
  const std::string recipe = (dir / "recipe.st").string(), protocol = (dir / "protocol.st").string();
  const std::vector<std::string> small = {"--vocab", "100", "--maxlen", "24", "--embed", "8", "--hidden", "8",
                                          "--batch", "16", "--steps", "10", "--eval", "none"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), small.begin(), small.end());
    return more;
  };
  App(with({"--save", recipe}), false).run();
  App(with({"--protocol", "--save", protocol}), false).run();
  CHECK_THROWS_WITH(App({"--load", recipe, "--protocol", "--eval-only"}, false),
                    Catch::Contains("differs from the checkpoint's"));
  App resumed({"--load", protocol, "--protocol", "--steps", "20", "--eval", "none"}, false);
  CHECK_FALSE(resumed.settings.mask);
  CHECK(resumed.run().last_step == 20);
  fs::remove_all(dir);
}

TEST_CASE("imdb app: --embed-dropout changes the training, and the model still learns",
          "[apps][imdb][dropout]") {
  const imdb::RunResult plain = App({"--mask"}).run();
  const imdb::RunResult dropped = App({"--mask", "--embed-dropout", "0.2"}).run();
  CHECK(dropped.test_acc >= 0.9);
  REQUIRE(dropped.rows.size() == plain.rows.size());
  REQUIRE_FALSE(plain.rows.empty());
  CHECK(dropped.rows.back().loss != plain.rows.back().loss);
}

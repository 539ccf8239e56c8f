// The IMDB app end to end on a small synthetic reviews.json with an obvious
// signal: load -> vocabulary -> train -> evaluate, checkpoints with their
// vocabulary, --predict, and the errors of a mismatched checkpoint.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "apps/common/model_io.hpp"
#include "apps/imdb_lstm/imdb_app.hpp"

using namespace tg;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("tapegrad_imdb_app_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

// `n` short reviews: neutral filler with one or two sentiment words placed
// anywhere; label 1 for the "great/wonderful" family, 0 for "awful/boring".
// Punctuation, capitals and "<br />" exercise the tokenizer.
fs::path write_reviews(const fs::path& dir, std::size_t n, std::uint64_t seed) {
  const std::vector<std::string> pos = {"great", "wonderful", "excellent", "loved", "Brilliant"};
  const std::vector<std::string> neg = {"awful", "boring", "terrible", "hated", "Dull"};
  const std::vector<std::string> filler = {"the", "movie", "film", "plot", "actors", "was", "and",
                                           "a", "it", "this", "story", "scene", "director",
                                           "music", "ending", "of", "with", "in", "really", "i",
                                           "<br />", "cast", "time", "watched", "don't"};
  std::mt19937_64 rng(seed);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  const fs::path file = dir / "reviews.json";
  std::ofstream out(file);
  out << "[";
  for (std::size_t i = 0; i < n; ++i) {
    const int label = int(rng() % 2);
    std::vector<std::string> words;
    const std::size_t len = 4 + rng() % 10;
    for (std::size_t k = 0; k < len; ++k) words.push_back(pick(filler));
    const std::size_t signals = 1 + rng() % 2;
    for (std::size_t k = 0; k < signals; ++k)
      words.insert(words.begin() + rng() % (words.size() + 1), pick(label ? pos : neg));
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    text += rng() % 2 ? "." : "!";
    out << (i ? ",\n" : "\n") << "{\"t\": \"" << text << "\", \"s\": " << label << "}";
  }
  out << "\n]\n";
  return file;
}

imdb::Config small_config() {
  imdb::Config c;
  c.vocab = 100;  // more than the synthetic data has: fitted below
  c.maxlen = 24;
  c.embed = 16;
  c.hidden = 16;
  c.batch = 16;
  c.lr = 1e-2;
  c.epochs = 3;
  c.seed = 7;
  c.eval_batch = 64;
  return c;
}

struct Run {
  data::Imdb data;
  std::unique_ptr<imdb::Model> model;
  std::unique_ptr<imdb::Trainer> trainer;
  std::vector<imdb::EpochResult> epochs;
};

// The app's pipeline, as main() runs it.
std::unique_ptr<Run> train(const fs::path& file, imdb::Config c) {
  auto r = std::make_unique<Run>();
  r->data = imdb::load_data(file.string(), c);
  c.vocab = r->data.vocab.tokens().size();
  Rng rng(c.seed);
  r->model = std::make_unique<imdb::Model>(c, rng);
  r->trainer = std::make_unique<imdb::Trainer>(*r->model, r->data.train);
  for (std::size_t e = 0; e < c.epochs; ++e) r->epochs.push_back(r->trainer->train_epoch());
  return r;
}

const fs::path& reviews() {
  static const fs::path file = write_reviews(temp_dir(), 800, 11);
  return file;
}

}  // namespace

TEST_CASE("imdb app: a small LSTM learns the synthetic sentiment", "[apps][imdb]") {
  const auto r = train(reviews(), small_config());
  const data::Imdb& d = r->data;
  REQUIRE(d.train.size() == 400);
  REQUIRE(d.test.size() == 400);
  CHECK(d.vocab.id("great") >= 2);
  CHECK(d.vocab.id("don't") >= 2);
  CHECK(r->model->embedding.weight.shape()[0] == d.vocab.size());
  // 400 / 16: 25 steps per epoch, the loss falls from chance.
  CHECK(r->epochs[0].steps == 25);
  CHECK(r->epochs[0].examples == 400);
  CHECK(r->epochs.back().train_loss < 0.5 * r->epochs[0].train_loss);
  const double train_acc = imdb::accuracy(*r->model, d.train);
  const double test_acc = imdb::accuracy(*r->model, d.test);
  INFO("train acc " << train_acc << ", test acc " << test_acc);
  CHECK(train_acc >= 0.9);
  CHECK(test_acc >= 0.9);
  // The padding row never moves.
  for (std::size_t j = 0; j < 16; ++j) CHECK(r->model->embedding.weight.value()(0, j) == 0.0f);
}

TEST_CASE("imdb app: the masked, stacked, bidirectional variants learn too", "[apps][imdb]") {
  imdb::Config c = small_config();
  c.mask = true;
  SECTION("masked") {}
  SECTION("masked, 2 layers, bidirectional, dropout") {
    c.layers = 2;
    c.bidirectional = true;
    c.dropout = 0.2;
  }
  const auto r = train(reviews(), c);
  const double test_acc = imdb::accuracy(*r->model, r->data.test);
  INFO("test acc " << test_acc);
  CHECK(test_acc >= 0.9);
}

TEST_CASE("imdb app: a max_batches epoch trains N batches", "[apps][imdb]") {
  imdb::Config c = small_config();
  c.max_batches = 5;
  c.epochs = 2;
  const auto r = train(reviews(), c);
  CHECK(r->epochs[0].steps == 5);
  CHECK(r->epochs[1].steps == 5);
  CHECK(r->trainer->optimizer().steps() == 10);
}

TEST_CASE("imdb app: checkpoint + vocabulary predict new texts", "[apps][imdb]") {
  const auto r = train(reviews(), small_config());
  const std::string path = (temp_dir() / "model.safetensors").string();
  imdb::save_checkpoint(path, *r->model, &r->trainer->optimizer(), r->data.vocab, 3);
  REQUIRE(fs::exists(imdb::vocab_path(path)));

  imdb::Loaded l = imdb::load_checkpoint(path);
  CHECK(l.epochs_done == 3);
  CHECK(l.model->config.hidden == 16);
  CHECK(l.vocab.tokens() == r->data.vocab.tokens());
  const std::vector<std::string> texts = {
      "A wonderful film, I loved the story and the music!",
      "Boring. The plot was awful and the actors were terrible.",
      "The movie was great.",
      "It was dull."};
  const std::vector<double> p = imdb::predict(*l.model, l.vocab, texts);
  REQUIRE(p.size() == 4);
  INFO("p = " << p[0] << " " << p[1] << " " << p[2] << " " << p[3]);
  CHECK(p[0] > 0.5);
  CHECK(p[1] < 0.5);
  CHECK(p[2] > 0.5);
  CHECK(p[3] < 0.5);
  // The loaded model is the saved one.
  const std::vector<double> q = imdb::predict(*r->model, r->data.vocab, texts);
  for (std::size_t i = 0; i < 4; ++i) CHECK(p[i] == Approx(q[i]).epsilon(1e-6));

  // Resuming restores Adam's state too.
  imdb::Trainer resumed(*l.model, r->data.train);
  imdb::load_optimizer(path, *l.model, resumed.optimizer());
  CHECK(resumed.optimizer().steps() == r->trainer->optimizer().steps());
}

TEST_CASE("imdb app: a mismatched checkpoint is a clear error", "[apps][imdb]") {
  const fs::path dir = temp_dir();
  imdb::Config c = small_config();
  c.vocab = 30;
  c.epochs = 1;
  c.max_batches = 1;
  const auto r = train(reviews(), c);
  const std::string path = (dir / "small.safetensors").string();
  imdb::save_checkpoint(path, *r->model, nullptr, r->data.vocab, 1);

  SECTION("an option that contradicts the checkpoint") {
    imdb::Config wanted = r->model->config;
    wanted.hidden = 32;
    CHECK_NOTHROW(imdb::check_settings(wanted, r->model->config, {"layers"}, path));
    CHECK_THROWS_WITH(imdb::check_settings(wanted, r->model->config, {"hidden"}, path),
                      Catch::Contains("--hidden 32 (checkpoint: 16)"));
  }
  SECTION("weights loaded into a model of another shape") {
    imdb::Config other = r->model->config;
    other.hidden = 8;
    Rng rng(1);
    imdb::Model m(other, rng);
    CHECK_THROWS_AS(app::load_model(path, m, static_cast<Optimizer<float>*>(nullptr)), Error);
  }
  SECTION("a vocabulary that belongs to another model") {
    data::Vocab other(std::vector<std::string>{"alpha", "beta"});
    other.save(imdb::vocab_path(path));
    CHECK_THROWS_WITH(imdb::load_checkpoint(path), Catch::Contains("belongs to another model"));
  }
  SECTION("a missing vocabulary") {
    fs::remove(imdb::vocab_path(path));
    CHECK_THROWS_WITH(imdb::load_checkpoint(path), Catch::Contains("is missing"));
  }
  SECTION("another app's checkpoint") {
    Rng rng(1);
    imdb::Model m(r->model->config, rng);
    auto meta = imdb::to_metadata(m.config);
    meta["app"] = "mnist_rnn";
    const std::string other = (dir / "other.safetensors").string();
    app::save_model(other, m, static_cast<Optimizer<float>*>(nullptr), meta);
    CHECK_THROWS_WITH(imdb::load_checkpoint(other), Catch::Contains("not of imdb_lstm"));
  }
  SECTION("a checkpoint whose metadata lacks a setting") {
    Rng rng(1);
    imdb::Model m(r->model->config, rng);
    auto meta = imdb::to_metadata(m.config);
    meta.erase("hidden");
    const std::string other = (dir / "nohidden.safetensors").string();
    app::save_model(other, m, static_cast<Optimizer<float>*>(nullptr), meta);
    CHECK_THROWS_WITH(imdb::load_checkpoint(other), Catch::Contains("'hidden'"));
  }
}

#ifdef TAPEGRAD_IMDB_LSTM_EXE
namespace {
struct Cmd {
  int status;
  std::string out;
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
}  // namespace

TEST_CASE("imdb_lstm executable: train, save, predict, exit codes", "[apps][imdb][cli]") {
  const fs::path dir = temp_dir();
  const std::string ckpt = (dir / "cli.safetensors").string();
  const std::string csv = (dir / "cli.csv").string();
  const Cmd train = run("--data " + reviews().string() +
                        " --vocab 100 --maxlen 24 --embed 16 --hidden 16 --batch 16 --lr 0.01"
                        " --epochs 3 --seed 7 --save " + ckpt + " --metrics " + csv);
  INFO(train.out);
  REQUIRE(train.status == 0);
  CHECK_THAT(train.out, Catch::Contains("first training review (label"));
  CHECK_THAT(train.out, Catch::Contains("epoch 3: train loss"));
  CHECK_THAT(train.out, Catch::Contains("RESULT name=imdb_lstm impl=tapegrad layers=1 epochs=3"));
  CHECK_THAT(train.out, Catch::Contains(" test_acc="));
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  CHECK(header == "epoch,train_loss,train_acc,test_acc,epoch_seconds");

  const Cmd pred = run("--load " + ckpt +
                       " --predict 'what a wonderful great film' --predict 'awful and boring'");
  INFO(pred.out);
  REQUIRE(pred.status == 0);
  CHECK_THAT(pred.out, Catch::Contains("positive  what a wonderful great film"));
  CHECK_THAT(pred.out, Catch::Contains("negative  awful and boring"));

  const Cmd mismatch = run("--load " + ckpt + " --hidden 32 --predict 'fine'");
  CHECK(mismatch.status == 1);
  CHECK_THAT(mismatch.out, Catch::Contains("--hidden 32 (checkpoint: 16)"));

  CHECK(run("--predict 'no checkpoint'").status == 2);
  CHECK(run("--layers two").status == 2);
  CHECK(run("--load " + (dir / "absent.safetensors").string() + " --predict x").status == 1);
}
#endif

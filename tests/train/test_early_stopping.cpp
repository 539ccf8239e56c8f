// Early stopping: which evaluation stops the run and which weights are kept
// (max and min, min_delta, patience 0), a stopped run resumed, a run resumed
// mid-way, and the errors.
#include <catch2/catch.hpp>

#include <map>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/safetensors.hpp>

#include "problem.hpp"

using namespace tg;
using namespace tg::test;
using Mode = train::EarlyStopping::Mode;

namespace {

// An evaluation whose "score" is scripted by step (a resumed run sees what
// the unbroken one saw); it notes the weights at each evaluation.
struct Scripted {
  Problem& p;
  train::Trainer<double>& t;
  std::map<std::size_t, double> score;  // by step
  std::map<std::size_t, Tensor<double>> weights;

  train::Metrics operator()() {
    weights[t.step()] = p.model.weight.value();
    return {{"full_loss", p.evaluate()[0].second}, {"score", score.at(t.step())}};
  }
  const std::vector<train::Row>& fit() {
    return t.fit([&](const train::Batch& b) { return p.loss(b, t.rng()); }, [&] { return (*this)(); });
  }
};

// Scores at steps 3, 6, ..., 30 (eval_every 3), padded with `rest`.
std::map<std::size_t, double> by_evaluation(std::vector<double> values, double rest) {
  std::map<std::size_t, double> m;
  for (std::size_t i = 0; i < 10; ++i) m[3 * (i + 1)] = i < values.size() ? values[i] : rest;
  return m;
}

bool same(const Tensor<double>& a, const Tensor<double>& b) { return a == b; }

}  // namespace

TEST_CASE("early stopping: stops at the right evaluation and restores the best weights", "[train][early]") {
  struct Case {
    const char* name;
    Mode mode;
    double min_delta;
    std::size_t patience;
    std::vector<double> values;
    std::size_t stop, best;  // evaluations (from 1); stop 0: runs to the end
  };
  const std::vector<Case> cases = {
      {"max: an equal value is no improvement", Mode::Max, 0, 2, {0.5, 0.7, 0.7, 0.65}, 4, 2},
      {"max with min_delta 0.1", Mode::Max, 0.1, 2, {0.5, 0.55, 0.65, 0.61, 0.7}, 5, 3},
      {"min", Mode::Min, 0, 3, {1.0, 0.8, 0.8, 0.9, 0.85}, 5, 2},
      {"min with min_delta 0.05", Mode::Min, 0.05, 2, {1.0, 0.96, 0.9, 0.88, 0.86}, 5, 3},
      {"patience 0 never stops, and keeps the best", Mode::Max, 0, 0, {0.5, 0.9, 0.1, 0.2}, 0, 2},
  };
  for (const Case& c : cases) {
    for (const bool restore : {true, false}) {
      INFO(c.name << (restore ? "" : ", restore_best off"));
      Problem p;
      train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(30, "", ""), 1);
      t.early_stopping({"score", c.mode, c.patience, c.min_delta, restore});
      Scripted s{p, t, by_evaluation(c.values, c.mode == Mode::Max ? 0.0 : 9.0), {}};
      const auto& rows = s.fit();
      const std::size_t evaluations = c.stop ? c.stop : 10, best_step = 3 * c.best;
      CHECK(rows.size() == evaluations);
      CHECK(t.step() == 3 * evaluations);
      const train::Best& b = t.best();
      CHECK(b.value == c.values[c.best - 1]);
      CHECK(b.step == best_step);
      CHECK(b.epoch == (best_step - 1) / 8 + 1);
      CHECK(b.since == evaluations - c.best);
      CHECK(b.stopped == (c.stop != 0));
      const Tensor<double>& expected = s.weights.at(restore ? best_step : 3 * evaluations);
      CHECK(same(p.model.weight.value(), expected));
      CHECK_FALSE(same(s.weights.at(best_step), s.weights.at(3 * evaluations)));  // restoring matters
    }
  }
}

TEST_CASE("early stopping: a stopped run resumed stays stopped, with the same weights", "[train][early][resume]") {
  const fs::path ck = temp_dir() / "stopped.st";
  const train::EarlyStopping es{"score", Mode::Max, 2};
  Tensor<double> kept;
  {
    Problem p;
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(30, ck.string(), ""), 1);
    t.early_stopping(es);
    Scripted s{p, t, by_evaluation({0.5, 0.7, 0.7, 0.65}, 0.0), {}};
    s.fit();
    REQUIRE(t.best().stopped);
    REQUIRE(t.step() == 12);
    kept = p.model.weight.value();
    REQUIRE(same(kept, s.weights.at(6)));
  }
  const std::string file = slurp(ck);
  Problem p;  // fresh weights, replaced by the checkpoint's
  train::Options o = p.options(30, ck.string(), "");
  std::FILE* log = std::tmpfile();
  o.log = log;
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, o, 1);
  t.early_stopping(es);
  t.resume(ck.string());
  CHECK(t.best().stopped);
  CHECK(t.best().step == 6);
  Scripted s{p, t, {}, {}};  // no score: an evaluation would throw
  CHECK(s.fit().empty());
  CHECK(t.step() == 12);
  CHECK(same(p.model.weight.value(), kept));
  CHECK(slurp(ck) == file);
  std::rewind(log);
  char line[256] = {};
  REQUIRE(std::fgets(line, sizeof line, log));
  std::fclose(log);
  CHECK(std::string(line) == "nothing to train: the run stopped early at step 12 (2 evaluations without a better score)\n");
}

TEST_CASE("early stopping: a run resumed mid-way is bit-identical to the unbroken one", "[train][early][resume]") {
  const fs::path straight = temp_dir() / "es_straight.st", halves = temp_dir() / "es_halves.st";
  // Stops at step 18: the best is at step 12, after the resume at step 9.
  const std::map<std::size_t, double> score = by_evaluation({0.5, 0.7, 0.6, 0.8, 0.7, 0.75}, 0.9);
  const train::EarlyStopping es{"score", Mode::Max, 2};
  Tensor<double> unbroken;
  {
    Problem p;
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(30, straight.string(), ""), 5);
    t.early_stopping(es);
    Scripted{p, t, score, {}}.fit();
    REQUIRE(t.step() == 18);
    unbroken = p.model.weight.value();
  }
  {
    Problem p;
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(9, halves.string(), ""), 5);
    t.early_stopping(es);
    Scripted{p, t, score, {}}.fit();
  }
  Problem p;
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(30, halves.string(), ""), 99);
  t.early_stopping(es);
  t.resume(halves.string());
  CHECK(t.best().step == 6);
  CHECK(t.best().since == 1);
  Scripted{p, t, score, {}}.fit();
  CHECK(t.step() == 18);
  CHECK(t.best().step == 12);
  CHECK(same(p.model.weight.value(), unbroken));
  CHECK(slurp(straight) == slurp(halves));
  const Checkpoint file = load_safetensors(halves.string());
  CHECK(file.tensors.count("model.best.weight") == 1);
  CHECK(file.tensors.count("model.best.bias") == 1);
}

TEST_CASE("early stopping: errors name the metric, the file and the mismatch", "[train][early]") {
  Problem p;
  {
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(6, "", ""), 1);
    t.early_stopping({"valid_f1"});
    Scripted s{p, t, by_evaluation({}, 0.5), {}};
    CHECK_THROWS_WITH(s.fit(), Catch::Contains("no metric 'valid_f1'") &&
                                   Catch::Contains("it returns full_loss, score"));
    CHECK_THROWS_WITH(t.fit([&](const train::Batch& b) { return p.loss(b, t.rng()); }),
                      Catch::Contains("needs an evaluation"));
  }
  CHECK_THROWS_WITH(train::Stopper({"x", Mode::Min, 1, -0.1}), Catch::Contains("min_delta"));
  CHECK_THROWS_WITH(train::Stopper({""}), Catch::Contains("no metric"));
  const fs::path with = temp_dir() / "es_with.st", without = temp_dir() / "es_without.st";
  {
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(3, with.string(), ""), 1);
    t.early_stopping({"score"});
    Scripted{p, t, by_evaluation({}, 0.5), {}}.fit();
    train::Trainer<double> u(p.tape, p.model.named_parameters(), p.adam, p.options(3, without.string(), ""), 1);
    p.fit(u);
  }
  train::Trainer<double> other(p.tape, p.model.named_parameters(), p.adam, p.options(6, "", ""), 1);
  other.early_stopping({"full_loss", Mode::Min});
  CHECK_THROWS_WITH(other.resume(with.string()),
                    Catch::Contains(with.string()) && Catch::Contains("\"score\"") && Catch::Contains("\"full_loss\""));
  train::Trainer<double> resumed(p.tape, p.model.named_parameters(), p.adam, p.options(6, "", ""), 1);
  resumed.early_stopping({"score"});
  resumed.resume(with.string());
  CHECK_THROWS_WITH(resumed.early_stopping({"score"}), Catch::Contains("before resume() and fit()"));
  train::Trainer<double> plain(p.tape, p.model.named_parameters(), p.adam, p.options(6, "", ""), 1);
  CHECK_THROWS_WITH(plain.resume(with.string()), Catch::Contains("unexpected 'model.best.bias', 'model.best.weight'"));
  train::Trainer<double> stopping(p.tape, p.model.named_parameters(), p.adam, p.options(6, "", ""), 1);
  stopping.early_stopping({"score"});
  CHECK_THROWS_WITH(stopping.resume(without.string()), Catch::Contains("no tensor named 'model.best.weight'"));
}

TEST_CASE("early stopping: an evaluation reads the best weights and where they were (load_best_weights, saved_best)",
          "[train][early]") {
  const fs::path ck = temp_dir() / "best_for_eval.st";
  Tensor<double> best_weight, last_weight;
  train::Best best;
  {
    Problem p;
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(30, ck.string(), ""), 1);
    t.early_stopping({"score", Mode::Max, 0, 0, /*restore_best=*/false});  // the file's model.* stay the last
    Scripted s{p, t, by_evaluation({0.5, 0.9, 0.1, 0.2}, 0.0), {}};
    s.fit();
    best = t.best();
    best_weight = s.weights.at(6);
    last_weight = p.model.weight.value();
    REQUIRE_FALSE(same(best_weight, last_weight));
  }
  Problem fresh;  // other weights than either
  train::load_best_weights(ck.string(), fresh.model.named_parameters());
  CHECK(same(fresh.model.weight.value(), best_weight));
  const train::Best saved = train::saved_best(ckpt::read_meta(ck.string()), ck.string());
  CHECK(saved.value == best.value);
  CHECK(saved.step == 6);
  CHECK(saved.epoch == best.epoch);
  CHECK(saved.since == best.since);
  CHECK_FALSE(saved.stopped);

  // A checkpoint without early stopping has no best to read: both say so.
  const fs::path plain = temp_dir() / "no_early_stopping.st";
  {
    Problem p;
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(6, plain.string(), ""), 1);
    t.fit([&](const train::Batch& b) { return p.loss(b, t.rng()); });
  }
  CHECK_THROWS_WITH(train::saved_best(ckpt::read_meta(plain.string()), plain.string()),
                    Catch::Contains("no_early_stopping.st") && Catch::Contains("trainer/early_stopping"));
  CHECK_THROWS_WITH(train::load_best_weights(plain.string(), fresh.model.named_parameters()),
                    Catch::Contains("model.best.weight"));
}

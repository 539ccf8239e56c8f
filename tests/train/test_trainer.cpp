// The Trainer: the schedule of evaluations, learning, bit-identical resume,
// the non-finite and divergence stops, and the metrics CSV on resume.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <tapegrad/checkpoint/state.hpp>

#include "problem.hpp"

using namespace tg;
using namespace tg::test;

TEST_CASE("trainer: evaluates every eval_every steps and at the end, and learns", "[train]") {
  Problem p;
  train::Trainer<double> trainer(p.tape, p.model.named_parameters(), p.adam, p.options(20, "", ""), 3);
  const double before = p.evaluate()[0].second;
  const auto& rows = p.fit(trainer);
  std::vector<std::size_t> steps;
  for (const auto& r : rows) steps.push_back(r.step);
  CHECK(steps == std::vector<std::size_t>{3, 6, 9, 12, 15, 18, 20});
  CHECK(rows.back().epoch == 3);  // step 20 is in the third epoch of 8
  CHECK(rows.back().values[0].first == "full_loss");
  CHECK(rows.back().values[0].second < before / 4);
  CHECK(trainer.step() == 20);
}

TEST_CASE("trainer: evaluation at epoch ends when eval_every is 0", "[train]") {
  Problem p;
  train::Options o = p.options(0, "", "");
  o.epochs = 2;
  o.eval_every = 0;
  train::Trainer<double> trainer(p.tape, p.model.named_parameters(), p.adam, o, 3);
  std::vector<std::size_t> epochs_ended;
  trainer.on_epoch_end = [&](std::size_t e) { epochs_ended.push_back(e); };
  const auto& rows = p.fit(trainer);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].step == 8);
  CHECK(rows[1].step == 16);
  CHECK(epochs_ended == std::vector<std::size_t>{1, 2});
}

TEST_CASE("trainer: a resumed run is bit-identical to an uninterrupted one", "[train][resume]") {
  const fs::path straight = temp_dir() / "straight.st", halves = temp_dir() / "halves.st";
  const fs::path straight_csv = temp_dir() / "straight.csv", halves_csv = temp_dir() / "halves.csv";
  {
    Problem p;
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam,
                             p.options(19, straight.string(), straight_csv.string()), 5);
    p.fit(t);
  }
  {
    Problem p;  // stops at step 9, an evaluation point of the straight run
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam,
                             p.options(9, halves.string(), halves_csv.string()), 5);
    p.fit(t);
  }
  {
    Problem p;  // fresh weights and another seed, both replaced by the checkpoint's
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam,
                             p.options(19, halves.string(), halves_csv.string()), 99);
    t.resume(halves.string());
    CHECK(t.step() == 9);
    p.fit(t);
  }
  CHECK(slurp(straight) == slurp(halves));
  CHECK(without_time(slurp(straight_csv)) == without_time(slurp(halves_csv)));
  const std::string csv = slurp(halves_csv);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 8);  // header + 7 rows
}

TEST_CASE("trainer: a non-finite loss stops training and keeps the last good checkpoint",
          "[train][nan]") {
  const fs::path path = temp_dir() / "nan.st";
  Problem p;
  train::Trainer<double> good(p.tape, p.model.named_parameters(), p.adam, p.options(3, path.string(), ""), 1);
  p.fit(good);
  const std::string before = slurp(path);
  train::Trainer<double> bad(p.tape, p.model.named_parameters(), p.adam, p.options(9, path.string(), ""), 1);
  bad.resume(path.string());
  p.adam.set_lr(INFINITY);
  REQUIRE_THROWS_AS(p.fit(bad), train::TrainingError);
  CHECK(slurp(path) == before);
  p.adam.set_lr(0.05);
  REQUIRE_THROWS_WITH(bad.save(path.string()), Catch::Contains("not finite") || Catch::Contains("nan"));
  CHECK(slurp(path) == before);
}

TEST_CASE("trainer: after a non-finite stop the message names a checkpoint only if one was written",
          "[train][nan]") {
  const fs::path from = temp_dir() / "resumed_from.st", to = temp_dir() / "saved_to.st";
  Problem p;
  train::Trainer<double> good(p.tape, p.model.named_parameters(), p.adam, p.options(3, from.string(), ""), 1);
  p.fit(good);
  // Resumed from one file, saving to another: nothing of this run is on disk
  // when it goes non-finite at its first step.
  train::Trainer<double> other(p.tape, p.model.named_parameters(), p.adam, p.options(9, to.string(), ""), 1);
  other.resume(from.string());
  p.adam.set_lr(INFINITY);
  REQUIRE_THROWS_WITH(p.fit(other), Catch::Contains("no checkpoint was written yet"));
  // Resumed from the file it saves to: that file is the last checkpoint.
  p.adam.set_lr(0.05);
  Problem q;
  train::Trainer<double> same(q.tape, q.model.named_parameters(), q.adam, q.options(9, from.string(), ""), 1);
  same.resume(from.string());
  q.adam.set_lr(INFINITY);
  REQUIRE_THROWS_WITH(q.fit(same), Catch::Contains("the checkpoint of step 3 is intact"));
}

TEST_CASE("trainer: a loss past max_loss is reported as divergence", "[train][nan]") {
  Problem p;
  train::Options o = p.options(5, "", "");
  o.max_loss = 1e-9;  // every loss of this problem exceeds it
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, o, 1);
  REQUIRE_THROWS_WITH(p.fit(t), Catch::Contains("step 1") && Catch::Contains("diverged"));
}

TEST_CASE("trainer: on_gradients runs between backward and the step", "[train]") {
  Problem p;
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(4, "", ""), 1);
  const Tensor<double> w0 = p.model.weight.value();
  std::size_t calls = 0;
  t.on_gradients = [&](const train::Batch& b) {
    ++calls;
    CHECK(b.step == calls);
    for (auto& v : p.model.parameters()) v.grad().fill(0.0);  // no update from this step
  };
  p.fit(t);
  CHECK(calls == 4);
  CHECK(bool(p.model.weight.value() == w0));
}

TEST_CASE("trainer: rejects a resume with another epoch length", "[train][resume]") {
  const fs::path path = temp_dir() / "epoch.st";
  Problem p;
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(2, path.string(), ""), 1);
  p.fit(t);
  train::Options o = p.options(4, "", "");
  o.batches_per_epoch = 5;
  train::Trainer<double> other(p.tape, p.model.named_parameters(), p.adam, o, 1);
  REQUIRE_THROWS_WITH(other.resume(path.string()), Catch::Contains("8 batches per epoch"));
}

TEST_CASE("trainer: the metrics CSV is appended to on resume, never truncated", "[train][resume]") {
  const fs::path ck = temp_dir() / "csv.st", csv = temp_dir() / "appended.csv";
  Problem p;
  for (std::size_t end = 3; end <= 30; end += 3) {  // ten resumed runs of one evaluation each
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(end, ck.string(), csv.string()), 2);
    if (end > 3) t.resume(ck.string());
    p.fit(t);
  }
  const std::string text = slurp(csv);
  CHECK(std::count(text.begin(), text.end(), '\n') == 11);  // the header and ten rows
  CHECK(text.rfind("step,epoch,loss,full_loss,train_seconds\n", 0) == 0);
  CHECK(text.find("\n30,") != std::string::npos);
  // Rows a crashed run wrote after its last checkpoint are dropped on resume.
  std::ofstream(csv, std::ios::app) << "33,5,1,1,1\n";
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(33, ck.string(), csv.string()), 2);
  t.resume(ck.string());
  p.fit(t);
  const std::string after = slurp(csv);
  CHECK(std::count(after.begin(), after.end(), '\n') == 12);
  CHECK(after.find("33,5,1,1,1") == std::string::npos);
}

TEST_CASE("trainer: an evaluation's metrics row is written before its checkpoint", "[train][resume]") {
  // A kill between the two must not lose the row: with the row first, the
  // resume from the previous checkpoint drops it and writes it again.
  const fs::path ck = temp_dir() / "row_first.st", csv = temp_dir() / "row_first.csv";
  Problem p;
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(6, ck.string(), csv.string()), 1);
  // The evaluation of step 6 leaves a weight the checkpoint refuses: the save
  // fails at the point a kill could come, after the row.
  const auto poisoned = [&] {
    train::Metrics m = p.evaluate();
    if (t.step() == 6) p.model.weight.value()(0, 0) = NAN;
    return m;
  };
  REQUIRE_THROWS_WITH(t.fit([&](const train::Batch& b) { return p.loss(b, t.rng()); }, poisoned),
                      Catch::Contains("not finite") || Catch::Contains("nan"));
  const std::string rows = slurp(csv);
  CHECK(rows.find("\n3,") != std::string::npos);
  CHECK(rows.find("\n6,") != std::string::npos);  // the row of the step whose checkpoint failed
  CHECK(ckpt::read_meta(ck.string()).at("trainer").at("step") == 3);  // the checkpoint before it
  // The resume from step 3 drops that row and writes it again: one row per step.
  Problem q;
  train::Trainer<double> again(q.tape, q.model.named_parameters(), q.adam, q.options(6, ck.string(), csv.string()), 1);
  again.resume(ck.string());
  q.fit(again);
  const std::string after = slurp(csv);
  CHECK(std::count(after.begin(), after.end(), '\n') == 3);  // the header, steps 3 and 6
}

// The Trainer clips with the norm it takes for its finiteness check, unless a
// gradient hook ran in between: both must match a hand-written loop.
TEST_CASE("trainer: clipping equals clip_grad_norm of the gradients the optimizer sees", "[train][clip]") {
  for (const double hook_scale : {0.0, 3.0}) {
    INFO("hook scaling the gradients by " << hook_scale << " (0: no hook)");
    auto loss_of = [](Problem& p, std::size_t step) {
      const std::size_t first = (step * 5 % 8) * 4;
      Tensor<double> xb = xt::view(p.x, xt::range(first, first + 4), xt::all());
      Tensor<double> yb = xt::view(p.y, xt::range(first, first + 4), xt::all());
      return mse(p.model(p.tape.constant(xb)), p.tape.constant(yb));
    };
    const double clip = 0.05;  // below every step's norm here: each step is clipped
    Problem by_trainer, by_hand;
    train::Options o = by_trainer.options(12, "", "");
    o.clip = clip;
    o.eval_every = 0;
    train::Trainer<double> t(by_trainer.tape, by_trainer.model.named_parameters(), by_trainer.adam, o, 1);
    if (hook_scale > 0)
      t.on_gradients = [&](const train::Batch&) {
        for (Var<double> v : by_trainer.adam.params()) v.grad() *= hook_scale;
      };
    t.fit([&](const train::Batch& b) { return loss_of(by_trainer, b.step); },
          [] { return train::Metrics{}; });
    for (std::size_t step = 1; step <= 12; ++step) {
      by_hand.tape.backward(loss_of(by_hand, step));
      if (hook_scale > 0)
        for (Var<double> v : by_hand.adam.params()) v.grad() *= hook_scale;
      REQUIRE(clip_grad_norm(by_hand.adam.params(), clip) > clip);
      by_hand.adam.step();
      by_hand.adam.zero_grad();
      by_hand.tape.clear();
    }
    const bool same_weight = by_trainer.model.weight.value() == by_hand.model.weight.value();
    const bool same_bias = by_trainer.model.bias.value() == by_hand.model.bias.value();
    REQUIRE(same_weight);
    REQUIRE(same_bias);
  }
}

TEST_CASE("trainer: a parameter the optimizer updates but the Trainer would not save is an error",
          "[train]") {
  Problem p;
  std::vector<NamedParameter<double>> named = p.model.named_parameters();
  named.pop_back();  // the bias: updated by Adam, in no checkpoint
  CHECK_THROWS_WITH((train::Trainer<double>(p.tape, named, p.adam, p.options(3, "", ""))),
                    Catch::Matchers::Contains("optimizer's parameter 1 (shape (2,))") &&
                        Catch::Matchers::Contains("checkpoints would not hold it"));
  CHECK_NOTHROW(train::Trainer<double>(p.tape, p.model.named_parameters(), p.adam, p.options(3, "", "")));
}

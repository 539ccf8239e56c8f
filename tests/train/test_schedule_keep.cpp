// A learning-rate schedule the Trainer steps (per step, per epoch) and
// tensors it keeps in the checkpoint: resumed runs are bit-identical to
// unbroken ones, and the mismatches are errors.
#include <catch2/catch.hpp>

#include <map>
#include <memory>

#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/optim/schedule.hpp>

#include "problem.hpp"

using namespace tg;
using namespace tg::test;

namespace {

// Problem with a schedule attached and the lr of every step noted.
struct Scheduled {
  Problem p;
  std::unique_ptr<LRScheduler<double>> schedule;
  std::map<std::size_t, double> lr;  // the lr each step ran with

  explicit Scheduled(train::Every every) {
    if (every == train::Every::Step)
      schedule = std::make_unique<StepLR<double>>(p.adam, 5, 0.5);
    else
      schedule = std::make_unique<CosineLR<double>>(p.adam, 3, 0.001);
  }
  void fit(train::Trainer<double>& t) {
    t.fit([&](const train::Batch& b) { lr[b.step] = p.adam.lr(); return p.loss(b, t.rng()); },
          [&] { return p.evaluate(); });
  }
};

train::Options every_four(Problem& p, std::size_t steps, const fs::path& save) {
  train::Options o = p.options(steps, save.string(), "");
  o.eval_every = 4;  // checkpoints at 4, 8 (an epoch's end), 12, 16 (another), 19
  return o;
}

}  // namespace

TEST_CASE("schedule: a resumed run has the unbroken run's lr at every step, and its weights",
          "[train][schedule][resume]") {
  for (const train::Every every : {train::Every::Step, train::Every::Epoch}) {
    for (const std::size_t at : {8, 12}) {
      INFO((every == train::Every::Step ? "per step" : "per epoch") << ", resumed at step " << at);
      const fs::path straight = temp_dir() / "lr_straight.st", halves = temp_dir() / "lr_halves.st";
      Scheduled a(every), b(every), c(every);
      train::Trainer<double> ta(a.p.tape, a.p.model.named_parameters(), a.p.adam, every_four(a.p, 19, straight), 5);
      ta.schedule(*a.schedule, every);
      a.fit(ta);
      train::Trainer<double> tb(b.p.tape, b.p.model.named_parameters(), b.p.adam, every_four(b.p, at, halves), 5);
      tb.schedule(*b.schedule, every);
      b.fit(tb);
      train::Trainer<double> tc(c.p.tape, c.p.model.named_parameters(), c.p.adam, every_four(c.p, 19, halves), 5);
      tc.schedule(*c.schedule, every);
      tc.resume(halves.string());
      c.fit(tc);
      REQUIRE(c.lr.size() == 19 - at);
      for (const auto& [step, lr] : c.lr) {
        INFO("step " << step);
        CHECK(lr == a.lr.at(step));
      }
      CHECK(a.lr.at(at + 1) != a.lr.at(1));  // the schedule has moved by the resume point
      CHECK(c.schedule->epoch() == a.schedule->epoch());
      CHECK(slurp(straight) == slurp(halves));
    }
  }
}

TEST_CASE("schedule: resuming needs the same schedule, stepped the same way", "[train][schedule]") {
  const fs::path ck = temp_dir() / "lr_step.st";
  Scheduled s(train::Every::Step);
  train::Trainer<double> t(s.p.tape, s.p.model.named_parameters(), s.p.adam, every_four(s.p, 4, ck), 1);
  t.schedule(*s.schedule, train::Every::Step);
  s.fit(t);
  CHECK_THROWS_WITH(t.schedule(*s.schedule, train::Every::Step), Catch::Contains("before resume() and fit()"));
  Scheduled other(train::Every::Epoch);
  train::Trainer<double> none(other.p.tape, other.p.model.named_parameters(), other.p.adam,
                              every_four(other.p, 8, ck), 1);
  CHECK_THROWS_WITH(none.resume(ck.string()), Catch::Contains(ck.string()) && Catch::Contains("trainer.schedule()"));
  train::Trainer<double> epochs(other.p.tape, other.p.model.named_parameters(), other.p.adam,
                                every_four(other.p, 8, ck), 1);
  epochs.schedule(*other.schedule, train::Every::Epoch);
  CHECK_THROWS_WITH(epochs.resume(ck.string()), Catch::Contains("every \"step\""));
}

namespace {

// Problem with a state carried from step to step, as an LM carries its
// hidden state: added to the output, then updated from it.
struct Carrying {
  Problem p;
  Tensor<double> carry = Tensor<double>::from_shape({1, 2});

  Carrying() { carry.fill(0.0); }
  void fit(train::Trainer<double>& t) {
    t.fit(
        [&](const train::Batch& b) {
          const std::size_t first = (b.step * 3 % 8) * 4;
          Tensor<double> xb = xt::view(p.x, xt::range(first, first + 4), xt::all());
          Tensor<double> yb = xt::view(p.y, xt::range(first, first + 4), xt::all());
          Var<double> out = p.model(p.tape.constant(xb)) + p.tape.constant(carry);
          for (std::size_t j = 0; j < 2; ++j) carry(0, j) = 0.5 * carry(0, j) + 0.5 * out.value()(0, j);
          return mse(out, p.tape.constant(yb));
        },
        [&] { return p.evaluate(); });
  }
};

}  // namespace

TEST_CASE("keep: a carried tensor is in the checkpoint, and a resumed run is bit-identical", "[train][keep][resume]") {
  const fs::path straight = temp_dir() / "keep_straight.st", halves = temp_dir() / "keep_halves.st";
  Carrying a, b, c;
  train::Trainer<double> ta(a.p.tape, a.p.model.named_parameters(), a.p.adam, a.p.options(19, straight.string(), ""), 5);
  ta.keep("carry", a.carry);
  a.fit(ta);
  train::Trainer<double> tb(b.p.tape, b.p.model.named_parameters(), b.p.adam, b.p.options(9, halves.string(), ""), 5);
  tb.keep("carry", b.carry);
  b.fit(tb);
  train::Trainer<double> tc(c.p.tape, c.p.model.named_parameters(), c.p.adam, c.p.options(19, halves.string(), ""), 5);
  tc.keep("carry", c.carry);
  tc.resume(halves.string());
  CHECK(bool(c.carry == b.carry));
  CHECK(c.carry(0, 0) != 0.0);
  c.fit(tc);
  CHECK(bool(c.carry == a.carry));
  CHECK(slurp(straight) == slurp(halves));
  const Checkpoint file = load_safetensors(halves.string());
  CHECK(file.tensors.count("state.carry") == 1);
  // An evaluation's load reads the model and leaves the run's state.
  CHECK_NOTHROW(ckpt::load<double>(halves.string(), c.p.model.named_parameters(), nullptr));
}

TEST_CASE("keep: a shape mismatch on resume names the tensor, the file and both shapes", "[train][keep]") {
  const fs::path ck = temp_dir() / "keep_shape.st";
  Carrying a;
  train::Trainer<double> t(a.p.tape, a.p.model.named_parameters(), a.p.adam, a.p.options(3, ck.string(), ""), 1);
  t.keep("carry", a.carry);
  CHECK_THROWS_WITH(t.keep("carry", a.carry), Catch::Contains("'carry' is taken"));
  a.fit(t);
  CHECK_THROWS_WITH(t.keep("other", a.carry), Catch::Contains("before resume() and fit()"));
  Problem p;
  Tensor<double> wide = Tensor<double>::from_shape({1, 3});
  train::Trainer<double> u(p.tape, p.model.named_parameters(), p.adam, p.options(6, "", ""), 1);
  u.keep("carry", wide);
  CHECK_THROWS_WITH(u.resume(ck.string()), Catch::Contains("state.carry") && Catch::Contains(ck.string()) &&
                                               Catch::Contains("(1, 2)") && Catch::Contains("(1, 3)"));
}

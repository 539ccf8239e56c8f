// A learning-rate schedule the Trainer steps (per step, per epoch): resumed
// runs are bit-identical to unbroken ones, and the mismatches are errors.
#include <catch2/catch.hpp>

#include <map>
#include <memory>

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

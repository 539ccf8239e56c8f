// state(): copying the named state into a fresh optimizer over equal
// parameters makes both take identical next steps.
#include <map>

#include "helpers.hpp"

using namespace tg;
using namespace tg::test;

namespace {
void give_grads(std::vector<Var<double>>& ps, Rng& rng) {
  for (Var<double>& p : ps) {
    p.zero_grad();
    p.node()->accumulate(uniform<double>(to_shape(p.shape()), -1, 1, rng));
  }
}
}  // namespace

TEST_CASE("state round trip: a restored optimizer continues identically", "[state]") {
  for (const auto& [name, make] : all_optimizers()) {
    INFO(name);
    Tape<double> tape;
    Rng init(1);
    std::vector<Var<double>> ps = {tape.parameter(uniform<double>({3, 2}, -1, 1, init)),
                                   tape.parameter(uniform<double>({4}, -1, 1, init))};
    auto opt = make(ps);
    Rng grads(2);
    for (int s = 0; s < 3; ++s) {
      give_grads(ps, grads);
      opt->step();
    }
    // Save: deep copies by name, as a checkpoint would.
    std::map<std::string, Tensor<double>> saved;
    for (auto& [key, t] : opt->state()) saved[key] = *t;
    REQUIRE(saved.count(std::string(name) + ".step"));
    REQUIRE(saved.size() > 1);  // every one of these keeps per-parameter state

    // Restore into a new optimizer over copies of the parameters.
    std::vector<Var<double>> qs = {tape.parameter(ps[0].value()),
                                   tape.parameter(ps[1].value())};
    auto fresh = make(qs);  // the same without restoring: must diverge
    std::vector<Var<double>> rs = {tape.parameter(ps[0].value()),
                                   tape.parameter(ps[1].value())};
    auto restored = make(rs);
    for (auto& [key, t] : restored->state()) *t = saved.at(key);
    REQUIRE(restored->steps() == 3);

    Rng g1(3), g2(3), g3(3);
    give_grads(ps, g1);
    give_grads(qs, g2);
    give_grads(rs, g3);
    opt->step();
    fresh->step();
    restored->step();
    for (std::size_t i = 0; i < ps.size(); ++i) {
      REQUIRE(same(rs[i].value(), ps[i].value()));
      REQUIRE_FALSE(same(qs[i].value(), ps[i].value()));
    }
    REQUIRE(restored->steps() == 4);
  }
}

TEST_CASE("state names follow <optimizer>.<slot>.<index>", "[state]") {
  Tape<double> tape;
  Var<double> a = param2(tape, 0, 0), b = param2(tape, 0, 0);
  Adam<double> adam({a, b});
  std::vector<std::string> names;
  for (auto& kv : adam.state()) names.push_back(kv.first);
  REQUIRE(names == std::vector<std::string>{"adam.step", "adam.t", "adam.m.0", "adam.m.1",
                                            "adam.v.0", "adam.v.1"});
  SGD<double> plain({a}, 0.1);
  REQUIRE(plain.state().size() == 1);  // no momentum: only the step count
}

TEST_CASE("a restored state of the wrong shape is caught at step()", "[state]") {
  Tape<double> tape;
  Var<double> a = param2(tape, 0, 0);
  Adam<double> adam({a});
  for (auto& [key, t] : adam.state())
    if (key == "adam.m.0") *t = Tensor<double>{1, 2, 3};
  set_grad(a, 1, 1);
  REQUIRE_THROWS_AS(adam.step(), Error);
}

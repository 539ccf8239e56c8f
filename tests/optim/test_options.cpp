// The options classes: PyTorch's defaults, the setters' errors (naming the
// optimizer, the option and the value), and the same updates bit for bit as
// the positional constructors they replaced.
#include "helpers.hpp"

using namespace tg;
using namespace tg::test;

namespace {

using Make = std::function<std::unique_ptr<Optimizer<float>>(std::vector<Var<float>>)>;

// Six steps of a float optimizer on four weights with fixed gradients.
std::vector<float> six_steps(const Make& make) {
  Tape<float> tape;
  Var<float> p = tape.parameter(Tensor<float>{0.5f, -1.25f, 2.0f, -0.03125f});
  auto opt = make({p});
  for (int s = 0; s < 6; ++s) {
    Tensor<float> g = Tensor<float>::from_shape(Shape{4});
    for (int k = 0; k < 4; ++k) g(k) = float(std::sin(1.3 * s + k) * (k + 1));
    p.zero_grad();
    p.node()->accumulate(g);
    opt->step();
  }
  return {p.value().begin(), p.value().end()};
}

}  // namespace

TEST_CASE("optimizer options: the defaults are PyTorch's", "[options]") {
  const AdamOptions adam;
  CHECK(adam.lr() == 1e-3);
  CHECK(adam.betas() == std::pair<double, double>(0.9, 0.999));
  CHECK(adam.eps() == 1e-8);
  CHECK(adam.weight_decay() == 0);
  const AdamWOptions adamw;
  CHECK(adamw.lr() == 1e-3);
  CHECK(adamw.betas() == std::pair<double, double>(0.9, 0.999));
  CHECK(adamw.eps() == 1e-8);
  CHECK(adamw.weight_decay() == 1e-2);
  const SGDOptions sgd(0.1);
  CHECK(sgd.lr() == 0.1);
  CHECK(sgd.momentum() == 0);
  CHECK_FALSE(sgd.nesterov());
  CHECK(sgd.weight_decay() == 0);
  const RMSpropOptions rms;
  CHECK(rms.lr() == 1e-2);
  CHECK(rms.alpha() == 0.99);
  CHECK(rms.eps() == 1e-8);
  CHECK(rms.momentum() == 0);
  CHECK(rms.weight_decay() == 0);
  const AdagradOptions ada;
  CHECK(ada.lr() == 1e-2);
  CHECK(ada.eps() == 1e-10);
  CHECK(ada.weight_decay() == 0);
  // The optimizer holds the options, converted to T.
  Tape<float> tape;
  Var<float> p = tape.parameter(Tensor<float>{1.0f});
  Adam<float> a({p}, AdamOptions().lr(1e-3).betas(0.8, 0.99).eps(1e-6).weight_decay(1e-4));
  CHECK(a.lr() == float(1e-3));
  CHECK(a.beta1() == float(0.8));
  CHECK(a.beta2() == float(0.99));
  CHECK(a.eps() == float(1e-6));
  CHECK(a.weight_decay() == float(1e-4));
  CHECK(AdamW<float>({p}).weight_decay() == float(1e-2));
  SGD<float> s({p}, SGDOptions(0.5).momentum(0.9).nesterov(true).weight_decay(0.1));
  CHECK(s.lr() == 0.5f);
  CHECK(s.momentum() == float(0.9));
  CHECK(s.nesterov());
  CHECK(s.weight_decay() == float(0.1));
}

TEST_CASE("optimizer options: a setter names the optimizer, the option and the value", "[options]") {
  using Catch::Contains;
  const double nan = std::nan("");
  CHECK_THROWS_WITH(AdamOptions(-1), Contains("adam: lr -1 must be >= 0"));
  CHECK_THROWS_WITH(AdamOptions().lr(-0.5), Contains("adam: lr -0.5 must be >= 0"));
  CHECK_THROWS_WITH(AdamOptions().betas(1.5, 0.9), Contains("adam: beta1 1.5 is not in [0, 1)"));
  CHECK_THROWS_WITH(AdamOptions().betas(0.9, 1), Contains("adam: beta2 1 is not in [0, 1)"));
  CHECK_THROWS_WITH(AdamOptions().betas(-0.1, 0.9), Contains("adam: beta1 -0.1 is not in [0, 1)"));
  CHECK_THROWS_WITH(AdamOptions().eps(-1e-8), Contains("adam: eps -1e-08 must be >= 0"));
  CHECK_THROWS_WITH(AdamOptions().weight_decay(nan), Contains("adam: weight_decay nan must be >= 0"));
  CHECK_THROWS_WITH(AdamWOptions().weight_decay(-2), Contains("adamw: weight_decay -2 must be >= 0"));
  CHECK_THROWS_WITH(AdamWOptions().betas(0.9, 2), Contains("adamw: beta2 2 is not in [0, 1)"));
  CHECK_THROWS_WITH(SGDOptions(-0.1), Contains("sgd: lr -0.1 must be >= 0"));
  CHECK_THROWS_WITH(SGDOptions(0.1).momentum(-0.5), Contains("sgd: momentum -0.5 must be >= 0"));
  CHECK_THROWS_WITH(SGDOptions(0.1).weight_decay(-1), Contains("sgd: weight_decay -1 must be >= 0"));
  CHECK_THROWS_WITH(RMSpropOptions().alpha(1.5), Contains("rmsprop: alpha 1.5 is not in [0, 1]"));
  REQUIRE_NOTHROW(RMSpropOptions().alpha(1));
  CHECK_THROWS_WITH(RMSpropOptions().eps(-1), Contains("rmsprop: eps -1 must be >= 0"));
  CHECK_THROWS_WITH(RMSpropOptions().momentum(-1), Contains("rmsprop: momentum -1 must be >= 0"));
  CHECK_THROWS_WITH(RMSpropOptions().weight_decay(-1), Contains("rmsprop: weight_decay -1 must be >= 0"));
  CHECK_THROWS_WITH(RMSpropOptions(-1), Contains("rmsprop: lr -1 must be >= 0"));
  CHECK_THROWS_WITH(AdagradOptions(-1), Contains("adagrad: lr -1 must be >= 0"));
  CHECK_THROWS_WITH(AdagradOptions().eps(-1), Contains("adagrad: eps -1 must be >= 0"));
  CHECK_THROWS_WITH(AdagradOptions().weight_decay(-1), Contains("adagrad: weight_decay -1 must be >= 0"));
  // What one option cannot tell alone is the constructor's to check.
  Tape<double> tape;
  Var<double> p = param2(tape, 1, 2);
  CHECK_THROWS_WITH(SGD<double>({p}, SGDOptions(0.1).nesterov(true)),
                      Contains("sgd: nesterov needs momentum > 0"));
  // The learning-rate-only constructors check through the options too.
  CHECK_THROWS_WITH(Adam<double>({p}, -1.0), Contains("adam: lr -1 must be >= 0"));
  CHECK_THROWS_WITH(AdamW<double>({p}, -1.0), Contains("adamw: lr -1 must be >= 0"));
}

TEST_CASE("optimizer options: the same parameters, bit for bit, as the positional constructors",
          "[options]") {
  // Printed (%a) by the same six steps run with the positional constructors
  // of 4366d06, named here as they were called there.
  struct Case {
    const char* positional;
    Make make;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {"Adam(ps, 0.01f, 0.8f, 0.99f, 1e-6f, 0.05f)",
       [](auto ps) {
         return std::make_unique<Adam<float>>(
             ps, AdamOptions(0.01f).betas(0.8f, 0.99f).eps(1e-6f).weight_decay(0.05f));
       },
       {0x1.e5cdd6p-2f, -0x1.45564cp+0f, 0x1.fc5a82p+0f, -0x1.cd767p-6f}},
      {"Adam(ps, 0.5f, 0.9f, 0.999f, 1e-8f) (the apps')",
       [](auto ps) { return std::make_unique<Adam<float>>(ps, AdamOptions(0.5)); },
       {-0x1.412782p-2f, -0x1.42e1e6p+1f, 0x1.52bca4p+0f, 0x1.a22028p-3f}},
      {"Adam(ps, 0.02f)", [](auto ps) { return std::make_unique<Adam<float>>(ps, 0.02f); },
       {0x1.deac8p-2f, -0x1.4d07d4p+0f, 0x1.f911cap+0f, -0x1.65b84p-6f}},
      {"AdamW(ps, 0.01f, 0.8f, 0.99f, 1e-6f, 0.05f)",
       [](auto ps) {
         return std::make_unique<AdamW<float>>(
             ps, AdamWOptions(0.01f).betas(0.8f, 0.99f).eps(1e-6f).weight_decay(0.05f));
       },
       {0x1.efeb44p-2f, -0x1.44c952p+0f, 0x1.fb5b42p+0f, -0x1.cc56b8p-6f}},
      {"AdamW(ps, 0.02f)", [](auto ps) { return std::make_unique<AdamW<float>>(ps, 0.02f); },
       {0x1.de155cp-2f, -0x1.4ca2eap+0f, 0x1.f8762cp+0f, -0x1.651fb8p-6f}},
      {"SGD(ps, 0.1f, 0.9f, true, 0.01f)",
       [](auto ps) {
         return std::make_unique<SGD<float>>(
             ps, SGDOptions(0.1f).momentum(0.9f).nesterov(true).weight_decay(0.01f));
       },
       {0x1.0f2f08p-2f, -0x1.080814p+1f, 0x1.44577ep+0f, 0x1.5042eep-1f}},
      {"RMSprop(ps, 0.01f, 0.9f, 1e-7f, 0.5f, 0.01f)",
       [](auto ps) {
         return std::make_unique<RMSprop<float>>(
             ps, RMSpropOptions(0.01f).alpha(0.9f).eps(1e-7f).momentum(0.5f).weight_decay(0.01f));
       },
       {0x1.9bfc2ap-2f, -0x1.4ed1fap+0f, 0x1.f7a29ep+0f, -0x1.bca136p-5f}},
      {"Adagrad(ps, 0.1f, 1e-9f, 0.01f)",
       [](auto ps) {
         return std::make_unique<Adagrad<float>>(ps,
                                                 AdagradOptions(0.1f).eps(1e-9f).weight_decay(0.01f));
       },
       {0x1.647c12p-2f, -0x1.5c612ap+0f, 0x1.ebd43ep+0f, -0x1.3b286ap-4f}},
  };
  for (const Case& c : cases) {
    INFO(c.positional);
#if defined(__FMA__)
    CHECK(six_steps(c.make) == c.expected);  // captured by an FMA (x86-64-v3) build
#else
    // Without FMA (scripts/build_portable.sh's -march=x86-64) the updates'
    // multiply-adds are not fused and round the last bit otherwise.
    const std::vector<float> got = six_steps(c.make);
    REQUIRE(got.size() == c.expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(c.expected[i]).epsilon(1e-6));
#endif
  }
}

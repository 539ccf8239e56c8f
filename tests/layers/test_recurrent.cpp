// Float64 gradchecks of the recurrent layers: every cell type over 7 steps,
// stacked, bidirectional, with a ragged batch, with an initial state, batch
// first; and the padding semantics.
#include <xtensor/xview.hpp>

#include "../autograd/check.hpp"
#include <tapegrad/layers/recurrent.hpp>

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {

constexpr std::size_t kSteps = 7, kBatch = 3, kIn = 4, kHidden = 3;

// Everything the layer returns, flattened into one vector for gradcheck.
Var<double> everything(const RecurrentOutput<double>& out) {
  std::vector<Var<double>> parts = {reshape(out.output, Shape{out.output.size()})};
  for (const auto& s : out.final) {
    parts.push_back(reshape(s.h, Shape{s.h.size()}));
    if (s.c.defined()) parts.push_back(reshape(s.c, Shape{s.c.size()}));
  }
  return concat(parts, 0);
}

struct Case {
  std::string name;
  RecurrentOptions options;
};

std::vector<Case> cell_cases() {
  std::vector<Case> cases;
  auto base = [](CellType c) {
    // Torch: non-zero biases exercise more of the gradient.
    return RecurrentOptions(kIn, kHidden).cell(c).init(RecurrentInit::Torch);
  };
  cases.push_back({"rnn tanh", base(CellType::RNN)});
  cases.push_back({"rnn identity", base(CellType::RNN).activation(Activation::Identity)});
  cases.push_back({"lstm", base(CellType::LSTM)});
  cases.push_back({"lstm peephole", base(CellType::LSTM).peephole(true)});
  cases.push_back({"lstm identity g and h", base(CellType::LSTM)
                                                .cell_activation(Activation::Identity)
                                                .output_activation(Activation::Identity)});
  cases.push_back({"gru", base(CellType::GRU)});
  return cases;
}

void check_layer(RecurrentOptions o, bool masked, bool with_initial, std::uint64_t seed,
                 std::size_t steps = kSteps) {
  Tape<double> tape;
  Rng rng(seed);
  Recurrent<double> layer(tape, o, rng);
  if (o.peephole())  // peepholes start at zero; make them matter
    for (auto& p : layer.named_parameters())
      if (p.name.find("peep") != std::string::npos) p.var.value() = uniform<double>(Shape{kHidden}, -1, 1, rng);
  Var<double> x = rand_param(tape, o.batch_first() ? Shape{kBatch, steps, kIn} : Shape{steps, kBatch, kIn}, rng);
  std::vector<Var<double>> inputs = layer.parameters();
  inputs.push_back(x);
  Tensor<double> mask = sequence_mask<double>({steps, steps / 2 + 1, 1}, steps, false, o.batch_first());
  std::vector<State<double>> initial;
  if (with_initial) {
    for (std::size_t i = 0; i < o.num_layers() * layer.directions(); ++i) {
      State<double> s{rand_param(tape, {kBatch, kHidden}, rng), {}};
      if (o.cell() == CellType::LSTM) s.c = rand_param(tape, {kBatch, kHidden}, rng);
      initial.push_back(s);
      inputs.push_back(s.h);
      if (s.c.defined()) inputs.push_back(s.c);
    }
  }
  require_gradcheck(tape, inputs, [&] {
    RecurrentInput<double> in(x);
    if (masked) in.mask(mask);
    if (with_initial) in.initial(initial);
    return everything(layer.forward(in));
  });
}

}  // namespace

TEST_CASE("every cell type, one layer, 7 steps: gradcheck", "[layers][recurrent]") {
  for (const Case& c : cell_cases()) {
    INFO(c.name);
    check_layer(c.options, false, false, 1);
  }
}

TEST_CASE("stacked and bidirectional: gradcheck", "[layers][recurrent]") {
  for (const Case& c : cell_cases()) {
    RecurrentOptions o = c.options;
    o.num_layers(2);
    INFO(c.name << " stacked");
    check_layer(o, false, false, 2);
    o.bidirectional(true);
    INFO(c.name << " stacked bidirectional");
    check_layer(o, false, false, 3);
  }
}

TEST_CASE("60 time steps: masked 2-layer bidirectional gradcheck", "[layers][recurrent]") {
  // Backpropagation through a long sequence: every gradient reaches back
  // through up to 60 applications of the same weights, in both directions.
  for (const Case& c : cell_cases()) {
    RecurrentOptions o = c.options;
    o.num_layers(2);
    o.bidirectional(true);
    INFO(c.name << ", 60 steps");
    check_layer(o, true, false, 7, 60);
  }
}

TEST_CASE("ragged batch (mask) and initial state: gradcheck", "[layers][recurrent]") {
  for (const Case& c : cell_cases()) {
    RecurrentOptions o = c.options;
    INFO(c.name << " masked");
    check_layer(o, true, false, 4);
    INFO(c.name << " initial state");
    check_layer(o, false, true, 5);
    o.bidirectional(true);
    o.num_layers(2);
    o.batch_first(true);
    INFO(c.name << " masked, initial state, 2 layers, bidirectional, batch first");
    check_layer(o, true, true, 6);
  }
}

TEST_CASE("padded steps neither change the state nor leak into the output", "[layers][recurrent]") {
  for (CellType cell : {CellType::RNN, CellType::LSTM, CellType::GRU})
    for (bool left : {false, true}) {
      INFO("cell " << int(cell) << (left ? " left" : " right") << " padded");
      Tape<double> tape;
      Rng rng(7);
      Recurrent<double> layer(tape, RecurrentOptions(kIn, kHidden).cell(cell).bidirectional(true),
                              rng);
      Tensor<double> xs = uniform<double>(Shape{5, 2, kIn}, -1, 1, rng);
      // Sequence 1 has 2 real steps, padded with garbage that must not matter.
      const std::size_t first = left ? 3 : 0;
      Tensor<double> mask = sequence_mask<double>({5, 2}, 5, left);
      auto out = layer.forward(RecurrentInput(tape.constant(xs)).mask(mask));
      Tensor<double> alone = Tensor<double>::from_shape(Shape{2, 1, kIn});
      for (std::size_t t = 0; t < 2; ++t)
        for (std::size_t k = 0; k < kIn; ++k) alone(t, 0, k) = xs(first + t, 1, k);
      auto ref = layer.forward(tape.constant(alone));
      for (std::size_t d = 0; d < 2; ++d)
        for (std::size_t j = 0; j < kHidden; ++j)
          REQUIRE(out.final[d].h.value()(1, j) == Approx(ref.final[d].h.value()(0, j)).margin(1e-12));
      for (std::size_t t = 0; t < 5; ++t) {
        const bool real = t >= first && t < first + 2;
        for (std::size_t j = 0; j < 2 * kHidden; ++j) {
          const double v = out.output.value()(t, 1, j);
          if (real) REQUIRE(v == Approx(ref.output.value()(t - first, 0, j)).margin(1e-12));
          else REQUIRE(v == 0.0);
        }
      }
    }
}

TEST_CASE("the recurrent weight's gradient is the sum of its per-step contributions", "[layers][recurrent]") {
  Tape<double> tape;
  Rng rng(8);
  RNNCell<double> cell(tape, kIn, kHidden, Activation::Tanh, RecurrentInit::Torch, rng);
  Var<double> x = tape.constant(uniform<double>(Shape{kSteps, kBatch, kIn}, -1, 1, rng));
  // Shared weight through the generic layer loop...
  Var<double> xp = cell.project(x);
  State<double> s{tape.constant(tg::zeros<double>(Shape{kBatch, kHidden})), {}};
  for (std::size_t t = 0; t < kSteps; ++t) s = cell.step(select(xp, t), s);
  tape.backward(sum(square(s.h)));
  const Tensor<double> shared = cell.weight_hh.grad();
  // ...against one copy of it per step.
  tape.clear();
  const Var<double> original = cell.weight_hh;
  Tensor<double> total = tg::zeros<double>(Shape{kHidden, kHidden});
  std::vector<Var<double>> copies;
  xp = cell.project(x);
  s = {tape.constant(tg::zeros<double>(Shape{kBatch, kHidden})), {}};
  for (std::size_t t = 0; t < kSteps; ++t) {
    copies.push_back(tape.parameter(original.value()));
    cell.weight_hh = copies.back();
    s = cell.step(select(xp, t), s);
  }
  tape.backward(sum(square(s.h)));
  for (auto& c : copies) total += c.grad();
  REQUIRE(xt::allclose(total, shared, 1e-12, 1e-14));
  cell.weight_hh = original;
}

TEST_CASE("fused and composed RNN, LSTM and GRU layers agree in values and gradients", "[layers][recurrent]") {
  for (int variant : {0, 1, 2, 3}) {  // LSTM tanh, LSTM identity, GRU, RNN tanh
    const bool identity = variant == 1;
    Tape<double> tape;
    auto o = RecurrentOptions(kIn, kHidden)
                 .cell(variant == 2 ? CellType::GRU : variant == 3 ? CellType::RNN : CellType::LSTM)
                 .num_layers(2)
                 .bidirectional(true)
                 .init(RecurrentInit::Torch);
    if (identity) o.cell_activation(Activation::Identity).output_activation(Activation::Identity);
    Rng r1(10), r2(10);
    Recurrent<double> fused(tape, o, r1);
    o.fused(false);
    Recurrent<double> composed(tape, o, r2);
    for (std::size_t i = 0; i < 4; ++i) {  // every cell, one switch
      REQUIRE(fused.cell(i / 2, i % 2).fuses());
      REQUIRE_FALSE(composed.cell(i / 2, i % 2).fused);
      REQUIRE_FALSE(composed.cell(i / 2, i % 2).fuses());
    }
    Rng rx(11);
    Var<double> x = tape.constant(uniform<double>(Shape{kSteps, kBatch, kIn}, -1, 1, rx));
    Tensor<double> mask = sequence_mask<double>({kSteps, 4, 1}, kSteps);
    auto a = fused.forward(RecurrentInput(x).mask(mask)), b = composed.forward(RecurrentInput(x).mask(mask));
    REQUIRE(xt::allclose(a.output.value(), b.output.value(), 1e-12, 1e-14));
    tape.backward(sum(square(a.output)) + sum(a.last()));
    tape.backward(sum(square(b.output)) + sum(b.last()));
    auto pa = fused.named_parameters(), pb = composed.named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
      INFO(pa[i].name);
      REQUIRE(xt::allclose(pa[i].var.grad(), pb[i].var.grad(), 1e-10, 1e-12));
    }
  }
}

TEST_CASE("return_sequences = false: the same final states, no output", "[layers][recurrent]") {
  for (CellType cell : {CellType::RNN, CellType::LSTM, CellType::GRU}) {
    Tape<double> tape;
    auto o = RecurrentOptions(kIn, kHidden).cell(cell).num_layers(2).bidirectional(true);
    Rng r1(12), r2(12);
    Recurrent<double> full(tape, o, r1);
    o.return_sequences(false);
    Recurrent<double> last_only(tape, o, r2);
    Rng rx(13);
    Var<double> x = rand_param(tape, {kSteps, kBatch, kIn}, rx);
    Tensor<double> mask = sequence_mask<double>({kSteps, 4, 1}, kSteps);
    auto a = full.forward(RecurrentInput(x).mask(mask)), b = last_only.forward(RecurrentInput(x).mask(mask));
    REQUIRE_FALSE(b.output.defined());
    REQUIRE(b.final.size() == a.final.size());
    REQUIRE(xt::allclose(a.last().value(), b.last().value(), 1e-14, 1e-15));
    std::vector<Var<double>> inputs = last_only.parameters();
    inputs.push_back(x);
    require_gradcheck(tape, inputs, [&] { return last_only.forward(RecurrentInput(x).mask(mask)).last(); });
  }
}

TEST_CASE("bad shapes and options are clear errors", "[layers][recurrent]") {
  Tape<float> tape;
  Rng rng(9);
  Recurrent<float> layer(tape, RecurrentOptions(4, 3), rng);
  REQUIRE_THROWS_WITH(layer.forward(tape.constant(tg::zeros<float>(Shape{5, 2, 3}))),
                      Catch::Contains("(5, 2, 3)") && Catch::Contains("expected (time, batch, 4)"));
  Tensor<float> bad_mask = tg::zeros<float>(Shape{2, 5});
  REQUIRE_THROWS_WITH(layer.forward(RecurrentInput(tape.constant(tg::zeros<float>(Shape{5, 2, 4}))).mask(bad_mask)),
                      Catch::Contains("mask has shape (2, 5)"));
  REQUIRE_THROWS_WITH(parse_cell_type("lstn"), Catch::Contains("unknown cell type 'lstn'"));
  REQUIRE_THROWS_WITH(sequence_mask<float>(std::vector<std::size_t>{6}, 5), Catch::Contains("length 6"));
  REQUIRE_THROWS_WITH(sequence_mask<float>(std::vector<int>{-1}, 5), Catch::Contains("length -1"));
  REQUIRE((sequence_mask<float>(std::vector<int>{2, 1}, 3, true) == Tensor<float>{{0, 0}, {1, 0}, {1, 1}}));
}

TEST_CASE("a mask as a Tensor, a Var, shaped (T, B, 1) or from lengths: the same result",
          "[layers][recurrent][mask]") {
  for (const bool batch_first : {false, true}) {
    INFO("batch_first " << batch_first);
    Tape<double> tape;
    Rng rng(9);
    Recurrent<double> layer(tape, RecurrentOptions(kIn, kHidden).cell(CellType::LSTM).batch_first(batch_first), rng);
    const Var<double> x = tape.constant(
        uniform<double>(batch_first ? Shape{kBatch, kSteps, kIn} : Shape{kSteps, kBatch, kIn}, -1, 1, rng));
    const std::vector<std::size_t> lengths = {kSteps, 2, 5};
    const Tensor<double> mask = sequence_mask<double>(lengths, kSteps, false, batch_first);
    Tensor<double> with_one = mask;
    with_one.reshape({mask.shape()[0], mask.shape()[1], 1});
    std::vector<State<double>> initial{{tape.constant(uniform<double>(Shape{kBatch, kHidden}, -1, 1, rng)),
                                        tape.constant(uniform<double>(Shape{kBatch, kHidden}, -1, 1, rng))}};
    const Tensor<double> expected = everything(layer.forward(RecurrentInput(x).mask(mask).initial(initial))).value();
    auto same = [&](const RecurrentOutput<double>& out) {
      const Tensor<double> got = everything(out).value();
      return std::equal(got.begin(), got.end(), expected.begin(), expected.end());
    };
    CHECK(same(layer.forward(RecurrentInput(x).mask(tape.constant(mask)).initial(initial))));
    CHECK(same(layer.forward(RecurrentInput(x).mask(with_one).initial(initial))));
    CHECK(same(layer.forward(RecurrentInput(x).mask_lengths(lengths).initial(initial))));
    const Tensor<double> left = sequence_mask<double>(lengths, kSteps, true, batch_first);
    const Tensor<double> by_mask = everything(layer.forward(RecurrentInput(x).mask(left))).value();
    const Tensor<double> by_lengths =
        everything(layer.forward(RecurrentInput(x).mask_lengths(lengths, Padding::Left))).value();
    CHECK(std::equal(by_mask.begin(), by_mask.end(), by_lengths.begin(), by_lengths.end()));
    const Tensor<double> unmasked = everything(layer.forward(RecurrentInput(x).initial(initial))).value();
    CHECK_FALSE(std::equal(unmasked.begin(), unmasked.end(), expected.begin(), expected.end()));
    Tensor<double> wrong = mask;
    wrong.reshape({mask.shape()[0], mask.shape()[1], 1, 1});
    CHECK_THROWS_WITH(layer.forward(RecurrentInput(x).mask(wrong)), Catch::Matchers::Contains("mask has shape"));
    CHECK_THROWS_WITH(layer.forward(RecurrentInput(x).mask(mask).mask_lengths(lengths)),
                      Catch::Matchers::Contains("both a mask and lengths"));
    CHECK_THROWS_WITH(layer.forward(RecurrentInput(x).mask_lengths({kSteps, 2})),
                      Catch::Matchers::Contains("2 lengths for a batch of 3"));
  }
}

TEST_CASE("an empty vector of initial states starts from zeros, as none does", "[layers][recurrent][mask]") {
  Tape<double> tape;
  Rng rng(10);
  Recurrent<double> layer(tape, RecurrentOptions(kIn, kHidden).cell(CellType::GRU).num_layers(2), rng);
  const Var<double> x = tape.constant(uniform<double>(Shape{kSteps, kBatch, kIn}, -1, 1, rng));
  const Tensor<double> none = everything(layer.forward(x)).value();
  const Tensor<double> empty = everything(layer.forward(RecurrentInput(x).initial({}))).value();
  CHECK(std::equal(none.begin(), none.end(), empty.begin(), empty.end()));
  CHECK_THROWS_WITH(layer.forward(RecurrentInput(x).initial(std::vector<State<double>>(1))),
                    Catch::Matchers::Contains("initial states for 2"));
}

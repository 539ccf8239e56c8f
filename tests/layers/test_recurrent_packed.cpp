// Recurrent's packed path (RecurrentInput::left_padding_as_input) against
// the general one: the same values and the same gradients for every cell
// type, stacked, batch first, with rows of every length from 0 to T (ties
// included); float64 gradchecks through an embedding table whose row 0 is the
// padding (perturbing it moves every padded step at once, as training does),
// from a sequence, from ids and from a projected table; the promise about the
// padding checked; bidirectional layers take the general path; a projected
// table refused once stale.
#include <xtensor/xview.hpp>

#include "../autograd/check.hpp"
#include <tapegrad/layers/recurrent.hpp>

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {

constexpr std::size_t kIn = 3, kHidden = 4, kVocab = 6;
const std::vector<std::size_t> kLengths = {7, 0, 3, 7, 1, 4};

// Left-padded ids (T, B): id 0 on the padding, 1..kVocab-1 on real steps.
Tensor<std::int64_t> padded_ids(const std::vector<std::size_t>& lengths, std::size_t steps, Rng& rng) {
  Tensor<std::int64_t> ids = tg::zeros<std::int64_t>(Shape{steps, lengths.size()});
  for (std::size_t b = 0; b < lengths.size(); ++b)
    for (std::size_t t = steps - lengths[b]; t < steps; ++t)
      ids(t, b) = 1 + std::int64_t(rng() % (kVocab - 1));
  return ids;
}

// The table lookup, (T, B, in) or (B, T, in).
Var<double> embed(const Var<double>& table, const Tensor<std::int64_t>& ids, bool batch_first) {
  Var<double> x = index_select(table, ids);
  return batch_first ? transpose(x, {1, 0, 2}) : x;
}

// The same skipping the gradient of row `no_grad_index` (a padding id).
Var<double> embed_with(const Var<double>& table, const Tensor<std::int64_t>& ids, bool batch_first,
                       std::int64_t no_grad_index) {
  Var<double> x = index_select(table, ids, no_grad_index);
  return batch_first ? transpose(x, {1, 0, 2}) : x;
}

Var<double> everything(const RecurrentOutput<double>& out) {
  std::vector<Var<double>> parts;
  if (out.output.defined()) parts.push_back(reshape(out.output, Shape{out.output.size()}));
  for (const auto& s : out.final) {
    parts.push_back(reshape(s.h, Shape{s.h.size()}));
    if (s.c.defined()) parts.push_back(reshape(s.c, Shape{s.c.size()}));
  }
  return concat(parts, 0);
}

RecurrentOptions options(CellType cell, std::size_t layers) {
  return RecurrentOptions(kIn, kHidden).cell(cell).num_layers(layers).init(RecurrentInit::Torch);
}

// f(options) for RNN, LSTM and GRU, 1 and 2 layers, time- and batch-first.
template <class F>
void for_each_layout(F f) {
  for (CellType cell : {CellType::RNN, CellType::LSTM, CellType::GRU})
    for (std::size_t layers : {1, 2})
      for (bool batch_first : {false, true}) {
        INFO("cell " << int(cell) << ", layers " << layers << ", batch first " << batch_first);
        RecurrentOptions o = options(cell, layers);
        o.batch_first(batch_first);
        f(o);
      }
}

// Values of both paths, and the gradients of one weighted sum of them.
struct Run {
  Tensor<double> values;
  std::vector<Tensor<double>> grads;  // the layer's parameters, then the table
};

Run run(const RecurrentOptions& o, bool packed, std::size_t steps, std::uint64_t seed) {
  Tape<double> tape;
  Rng rng(seed);
  Recurrent<double> layer(tape, o, rng);
  Var<double> table = rand_param(tape, {kVocab, kIn}, rng);
  const Tensor<std::int64_t> ids = padded_ids(kLengths, steps, rng);
  const Var<double> x = embed(table, ids, o.batch_first());
  const Var<double> all =
      everything(packed ? layer.forward(RecurrentInput(x).left_padding_as_input(kLengths)) : layer.forward(x));
  const Var<double> weights = tape.constant(uniform<double>(to_shape(all.shape()), -1, 1, rng));
  tape.backward(sum(all * weights));
  Run r{all.value(), {}};
  for (const Var<double>& p : layer.parameters()) r.grads.push_back(p.grad());
  r.grads.push_back(table.grad());
  return r;
}

}  // namespace

TEST_CASE("packed and general paths agree: values and gradients", "[layers][recurrent][packed]") {
  for (CellType cell : {CellType::RNN, CellType::LSTM, CellType::GRU})
    for (std::size_t layers : {1, 2})
      for (bool sequences : {true, false})
        for (bool batch_first : {false, true}) {
          INFO("cell " << int(cell) << ", layers " << layers << ", sequences " << sequences
                       << ", batch first " << batch_first);
          RecurrentOptions o = options(cell, layers);
          o.return_sequences(sequences);
          o.batch_first(batch_first);
          const Run dense = run(o, false, 7, 11), packed = run(o, true, 7, 11);
          REQUIRE(dense.values.size() == packed.values.size());
          REQUIRE(xt::allclose(packed.values, dense.values, 1e-12, 1e-13));
          REQUIRE(dense.grads.size() == packed.grads.size());
          for (std::size_t i = 0; i < dense.grads.size(); ++i) {
            INFO("gradient " << i);
            REQUIRE(xt::allclose(packed.grads[i], dense.grads[i], 1e-11, 1e-12));
          }
        }
}

TEST_CASE("packed path: gradcheck through the padding's embedding, 2 layers, 12 steps, every input form",
          "[layers][recurrent][packed]") {
  for (CellType cell : {CellType::RNN, CellType::LSTM, CellType::GRU}) {
    INFO("cell " << int(cell));
    Tape<double> tape;
    Rng rng(3);
    Recurrent<double> layer(tape, options(cell, 2), rng);
    Var<double> table = rand_param(tape, {kVocab, kIn}, rng);
    const std::vector<std::size_t> lengths = {12, 5, 0, 9, 1};
    const Tensor<std::int64_t> ids = padded_ids(lengths, 12, rng);
    std::vector<Var<double>> inputs = layer.parameters();
    inputs.push_back(table);
    require_gradcheck(tape, inputs, [&] {
      return everything(layer.forward(RecurrentInput(embed(table, ids, false)).left_padding_as_input(lengths)));
    });
    require_gradcheck(tape, inputs, [&] {
      return everything(layer.forward(RecurrentInput<double>::ids(table, ids).left_padding_as_input(lengths)));
    });
    require_gradcheck(tape, inputs, [&] {  // recorded: gradients reach the table and layer 0's weights
      const ProjectedTable<double> projected = layer.project_table(table);
      return everything(layer.forward(RecurrentInput<double>::ids(projected, ids).left_padding_as_input(lengths)));
    });
    require_gradcheck(tape, inputs, [&] {  // the general path from ids, masked
      return everything(layer.forward(RecurrentInput<double>::ids(table, ids).mask_lengths(lengths, Padding::Left)));
    });
  }
}

TEST_CASE("packed path: padding that differs, bad lengths, bidirectional",
          "[layers][recurrent][packed]") {
  Tape<double> tape;
  Rng rng(5);
  RecurrentOptions o = options(CellType::LSTM, 1);
  Recurrent<double> layer(tape, o, rng);
  Tensor<double> x = uniform<double>(Shape{4, 3, kIn}, -1, 1, rng);
  auto packed = [&](const Tensor<double>& v, std::vector<std::size_t> lengths) {
    return layer.forward(RecurrentInput(tape.constant(v)).left_padding_as_input(std::move(lengths)));
  };
  // Rows 0 and 2 are padded at step 0; their inputs differ.
  REQUIRE_THROWS_WITH(packed(x, {3, 4, 2}), Catch::Contains("step 0 row") && Catch::Contains("differs from row 2"));
  xt::view(x, 0, 0, xt::all()) = xt::view(x, 0, 2, xt::all());
  xt::view(x, 1, 2, xt::all()) = xt::view(x, 1, 0, xt::all());  // not needed: row 0 begins at 1
  REQUIRE_NOTHROW(packed(x, {3, 4, 2}));
  REQUIRE_THROWS_WITH(packed(x, {3, 5, 2}), Catch::Contains("length 5 of row 1"));
  REQUIRE_THROWS_WITH(packed(x, {3, 4}), Catch::Contains("2 lengths for a batch of 3"));

  // What the packing cannot share takes the general path, which reads the
  // padding as input too: the plain forward's result, bit for bit.
  const Var<double> v = tape.constant(x);
  std::vector<State<double>> initial{{tape.constant(tg::zeros<double>(Shape{3, kHidden})),
                                      tape.constant(tg::zeros<double>(Shape{3, kHidden}))}};
  REQUIRE(xt::allclose(everything(layer.forward(RecurrentInput(v).left_padding_as_input({3, 4, 2}).initial(initial))).value(),
                       everything(layer.forward(v)).value(), 0, 0));
  o.bidirectional(true);
  Recurrent<double> both(tape, o, rng);
  REQUIRE(xt::allclose(everything(both.forward(RecurrentInput(v).left_padding_as_input({3, 4, 2}))).value(),
                       everything(both.forward(v)).value(), 0, 0));
}

TEST_CASE("ids into a table and into a projected table equal the gathered sequence",
          "[layers][recurrent][packed]") {
  for_each_layout([](RecurrentOptions o) {
    const std::size_t layers = o.num_layers();
    const bool batch_first = o.batch_first();
    o.return_sequences(layers == 1);
    Tape<double> tape;
    Rng rng(12);
    Recurrent<double> layer(tape, o, rng);
    Var<double> table = rand_param(tape, {kVocab, kIn}, rng);
    const Tensor<std::int64_t> time_major = padded_ids(kLengths, 7, rng);
    const Tensor<std::int64_t> ids = batch_first ? Tensor<std::int64_t>(xt::transpose(time_major))
                                                 : time_major;
    const Var<double> weights = tape.constant(uniform<double>(Shape{1}, 1, 2, rng));
    auto grads_of = [&](const Var<double>& all) {
      tape.backward(sum(square(all)) * weights);
      std::vector<Tensor<double>> g;
      for (Var<double> p : layer.parameters()) g.push_back(p.grad()), p.zero_grad();
      g.push_back(table.grad());
      table.zero_grad();
      tape.clear();
      return g;
    };
    auto from_ids = [&](std::int64_t no_grad_id) {
      return everything(
          layer.forward(RecurrentInput<double>::ids(table, ids, no_grad_id).left_padding_as_input(kLengths)));
    };
    // no_grad_id 0: the padding row gets no gradient on either path.
    const Var<double> gathered = everything(layer.forward(
        RecurrentInput(embed_with(table, time_major, batch_first, 0)).left_padding_as_input(kLengths)));
    const Tensor<double> want = gathered.value();
    const auto want_grads = grads_of(gathered);
    const Var<double> looked_up = from_ids(0);
    REQUIRE(xt::allclose(looked_up.value(), want, 1e-13, 1e-14));
    const auto grads = grads_of(looked_up);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      INFO("gradient " << i);
      REQUIRE(xt::allclose(grads[i], want_grads[i], 1e-12, 1e-13));
    }
    // Through a projected table, recorded (each step reads its rows of the
    // table in place): the gradients of projecting every gathered token.
    const auto all_rows = grads_of(from_ids(-1));
    const auto via_table = grads_of(everything(layer.forward(
        RecurrentInput<double>::ids(layer.project_table(table), ids).left_padding_as_input(kLengths))));
    for (std::size_t i = 0; i < all_rows.size(); ++i) {
      INFO("gradient " << i << " through the projected table");
      REQUIRE(xt::allclose(via_table[i], all_rows[i], 1e-12, 1e-13));
    }
    auto no_grad = tape.no_grad();
    const ProjectedTable<double> projected = layer.project_table(table);
    REQUIRE(xt::allclose(
        everything(layer.forward(RecurrentInput<double>::ids(projected, ids).left_padding_as_input(kLengths)))
            .value(),
        want, 1e-13, 1e-14));
  });
  Tape<double> tape;
  Rng rng(1);
  Recurrent<double> layer(tape, options(CellType::LSTM, 1), rng);
  Var<double> table = rand_param(tape, {kVocab, kIn}, rng);
  Tensor<std::int64_t> ids = tg::zeros<std::int64_t>(Shape{3, 2});
  ids(0, 1) = 2;  // row 1 is padded at step 0 (length 2) but holds id 2
  REQUIRE_THROWS_WITH(layer.forward(RecurrentInput<double>::ids(table, ids).left_padding_as_input({1, 2})),
                      Catch::Contains("step 0 row 1"));
  const Tensor<std::int64_t> flat(Shape{6});
  REQUIRE_THROWS_WITH(layer.forward(RecurrentInput<double>::ids(table, flat).left_padding_as_input({1, 2})),
                      Catch::Contains("ids have shape"));
}

TEST_CASE("a projected table: what it is not for, and refused once stale", "[layers][recurrent][packed]") {
  Tape<double> tape;
  Rng rng(2);
  RecurrentOptions o = options(CellType::LSTM, 1);
  Recurrent<double> layer(tape, o, rng), other(tape, o, rng);
  Var<double> table = rand_param(tape, {kVocab, kIn}, rng);
  const Tensor<std::int64_t> ids = padded_ids(kLengths, 7, rng);
  auto run = [&](const ProjectedTable<double>& p) {
    return everything(layer.forward(RecurrentInput<double>::ids(p, ids).left_padding_as_input(kLengths))).value();
  };
  ProjectedTable<double> projected;
  {
    auto no_grad = tape.no_grad();
    projected = layer.project_table(table);
  }
  const Tensor<double> before = run(projected);
  tape.clear();  // a constant: it survives clear()
  REQUIRE(xt::allclose(run(projected), before, 0, 0));
  REQUIRE_THROWS_WITH(layer.forward(RecurrentInput<double>::ids(projected, ids).mask_lengths(kLengths)),
                      Catch::Contains("not for") && Catch::Contains("masks"));
  REQUIRE_THROWS_WITH(layer.forward(RecurrentInput<double>::ids(other.project_table(table), ids)
                                        .left_padding_as_input(kLengths)),
                      Catch::Contains("another layer"));
  REQUIRE_THROWS_WITH(layer.project_table(rand_param(tape, {kVocab, kIn + 1}, rng)), Catch::Contains("table has shape"));

  // A training step: a backward, then the weights change. The old projection
  // would give the old weights' values; the layer refuses it.
  tape.backward(sum(everything(layer.forward(RecurrentInput<double>::ids(table, ids).left_padding_as_input(kLengths)))));
  for (Var<double> p : layer.parameters()) p.value() -= 0.1 * p.grad();
  tape.clear();
  REQUIRE_THROWS_WITH(run(projected), Catch::Contains("stale") && Catch::Contains("project_table() again"));
  projected = layer.project_table(table);
  const Tensor<double> after = run(projected);
  REQUIRE_FALSE(xt::allclose(after, before));
  const Tensor<double> want =
      everything(layer.forward(RecurrentInput<double>::ids(table, ids).left_padding_as_input(kLengths))).value();
  REQUIRE(xt::allclose(after, want, 1e-13, 1e-14));

  o.bidirectional(true);
  Recurrent<double> both(tape, o, rng);
  REQUIRE_THROWS_WITH(both.forward(RecurrentInput<double>::ids(both.project_table(table), ids)
                                       .left_padding_as_input(kLengths)),
                      Catch::Contains("bidirectional"));
}

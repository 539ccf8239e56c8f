// RecurrentOptions: the chained form and one setter per statement give the
// same options and the same layer; the defaults; the setters' errors.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include <tapegrad/layers/recurrent.hpp>

using namespace tg;

namespace {

// Every option, read back.
bool same_options(const RecurrentOptions& a, const RecurrentOptions& b) {
  return a.cell() == b.cell() && a.input_size() == b.input_size() &&
         a.hidden_size() == b.hidden_size() && a.num_layers() == b.num_layers() &&
         a.bidirectional() == b.bidirectional() && a.batch_first() == b.batch_first() &&
         a.dropout() == b.dropout() && a.activation() == b.activation() &&
         a.cell_activation() == b.cell_activation() &&
         a.output_activation() == b.output_activation() && a.peephole() == b.peephole() &&
         a.forget_bias() == b.forget_bias() && a.init() == b.init() && a.fused() == b.fused() &&
         a.return_sequences() == b.return_sequences();
}

// Both layers' parameters: the same names, shapes and values, bit for bit.
void require_same_layer(const RecurrentOptions& a, const RecurrentOptions& b) {
  Tape<float> tape;
  Rng ra(21), rb(21);
  Recurrent<float> la(tape, a, ra), lb(tape, b, rb);
  auto pa = la.named_parameters(), pb = lb.named_parameters();
  REQUIRE(pa.size() == pb.size());
  REQUIRE(!pa.empty());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].name);
    REQUIRE(pa[i].name == pb[i].name);
    REQUIRE(pa[i].var.shape() == pb[i].var.shape());
    const bool same_values = pa[i].var.value() == pb[i].var.value();
    REQUIRE(same_values);
  }
}

}  // namespace

TEST_CASE("RecurrentOptions: the defaults", "[layers][options]") {
  const RecurrentOptions o;
  CHECK(o.cell() == CellType::LSTM);
  CHECK(o.input_size() == 0);
  CHECK(o.hidden_size() == 0);
  CHECK(o.num_layers() == 1);
  CHECK_FALSE(o.bidirectional());
  CHECK_FALSE(o.batch_first());
  CHECK(o.dropout() == 0);
  CHECK(o.activation() == Activation::Tanh);
  CHECK(o.cell_activation() == Activation::Tanh);
  CHECK(o.output_activation() == Activation::Tanh);
  CHECK_FALSE(o.peephole());
  CHECK_FALSE(o.forget_bias().has_value());
  CHECK(o.init() == RecurrentInit::GlorotOrthogonal);
  CHECK(o.fused());
  CHECK(o.return_sequences());
  const RecurrentOptions sized(28, 128);
  CHECK(sized.input_size() == 28);
  CHECK(sized.hidden_size() == 128);
  CHECK(same_options(RecurrentOptions().input_size(28).hidden_size(128), sized));
}

TEST_CASE("RecurrentOptions: chained or one setter at a time, the same layer", "[layers][options]") {
  // LSTM with every LSTM option, GRU and RNN with theirs.
  const RecurrentOptions lstm = RecurrentOptions(5, 4)
                                    .cell(CellType::LSTM)
                                    .num_layers(2)
                                    .bidirectional(true)
                                    .batch_first(true)
                                    .dropout(0.25)
                                    .cell_activation(Activation::Sigmoid)
                                    .output_activation(Activation::Relu)
                                    .peephole(true)
                                    .forget_bias(2.5)
                                    .init(RecurrentInit::Torch)
                                    .fused(false)
                                    .return_sequences(false);
  RecurrentOptions one;
  one.cell(CellType::LSTM);
  one.input_size(5);
  one.hidden_size(4);
  one.num_layers(2);
  one.bidirectional(true);
  one.batch_first(true);
  one.dropout(0.25);
  one.cell_activation(Activation::Sigmoid);
  one.output_activation(Activation::Relu);
  one.peephole(true);
  one.forget_bias(2.5);
  one.init(RecurrentInit::Torch);
  one.fused(false);
  one.return_sequences(false);
  REQUIRE(same_options(lstm, one));
  require_same_layer(lstm, one);
  REQUIRE_FALSE(same_options(lstm, RecurrentOptions(one).forget_bias(std::nullopt)));

  for (CellType cell : {CellType::GRU, CellType::RNN}) {
    INFO("cell " << int(cell));
    const auto chained =
        RecurrentOptions(3, 6).cell(cell).num_layers(3).activation(Activation::Relu);
    RecurrentOptions o;
    o.cell(cell);
    o.input_size(3);
    o.hidden_size(6);
    o.num_layers(3);
    o.activation(Activation::Relu);
    REQUIRE(same_options(chained, o));
    require_same_layer(chained, o);
  }
}

TEST_CASE("RecurrentOptions: a setter names the option and the value", "[layers][options]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(RecurrentOptions(0, 4), Contains("RecurrentOptions: input_size 0 must be positive"));
  CHECK_THROWS_WITH(RecurrentOptions(4, 0), Contains("RecurrentOptions: hidden_size 0 must be positive"));
  CHECK_THROWS_WITH(RecurrentOptions().input_size(0), Contains("input_size 0 must be positive"));
  CHECK_THROWS_WITH(RecurrentOptions().hidden_size(0), Contains("hidden_size 0 must be positive"));
  CHECK_THROWS_WITH(RecurrentOptions(4, 3).num_layers(0),
                      Contains("RecurrentOptions: num_layers 0 must be positive"));
  CHECK_THROWS_WITH(RecurrentOptions(4, 3).dropout(1), Contains("RecurrentOptions: dropout 1 is not in [0, 1)"));
  CHECK_THROWS_WITH(RecurrentOptions(4, 3).dropout(-0.5), Contains("dropout -0.5 is not in [0, 1)"));
  CHECK_THROWS_WITH(RecurrentOptions(4, 3).dropout(std::nan("")), Contains("dropout nan is not in [0, 1)"));
  CHECK_THROWS_WITH(RecurrentOptions(4, 3).forget_bias(std::numeric_limits<double>::infinity()),
                      Contains("RecurrentOptions: forget_bias inf is not finite"));
  REQUIRE_NOTHROW(RecurrentOptions(4, 3).dropout(0.999).forget_bias(-3).forget_bias(std::nullopt));
  // A default-constructed RecurrentOptions has no sizes: the layer refuses it.
  Tape<float> tape;
  Rng rng(1);
  CHECK_THROWS_WITH(Recurrent<float>(tape, RecurrentOptions(), rng),
                      Contains("Recurrent: input_size and hidden_size must be positive"));
  CHECK_THROWS_WITH(Recurrent<float>(tape, RecurrentOptions().input_size(3), rng),
                      Contains("Recurrent: input_size and hidden_size must be positive"));
}

// PyTorch interop (layers/torch_io.hpp): names and layouts of the state_dict,
// round trips, refusals, import errors; and PyTorch itself (python3-torch)
// running our exported models and writing models for us to import, through
// tests/layers/torch_interop.py. That test fails, not skips, without torch.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>

#include <nlohmann/json.hpp>

#include "../io/helpers.hpp"
#include <tapegrad/layers/init.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/layers/torch_io.hpp>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::run_ok;
using tg::test::same;
using tg::test::TempDir;

namespace {

// The models of torch_interop.py (its docstring), for either direction.
struct Spec {
  std::string name;
  CellType cell;
  std::size_t layers;
  bool bidirectional, batch_first;
  Activation activation;
  std::size_t vocab;  // > 0: an Embedding(vocab, 5, padding 0) reads ids
  std::size_t head_out;
  bool head_bias;
};
const Spec kLstm{"lstm", CellType::LSTM, 2, true, false, Activation::Tanh, 0, 4, true};
const Spec kGru{"gru", CellType::GRU, 1, false, false, Activation::Tanh, 11, 3, false};
const Spec kRnn{"rnn", CellType::RNN, 2, false, true, Activation::Relu, 0, 2, true};
constexpr std::size_t kIn = 5, kHidden = 6, kSteps = 7, kBatch = 3;

RecurrentOptions recurrent_options(const Spec& s) {
  return RecurrentOptions(kIn, kHidden)
      .cell(s.cell)
      .num_layers(s.layers)
      .bidirectional(s.bidirectional)
      .batch_first(s.batch_first)
      .activation(s.activation)
      .init(RecurrentInit::Torch);  // non-zero biases, all different
}

// The cell models of torch_interop.py: a cell stepped by hand, as a decoder
// steps it, and a head on every step's h.
struct CellSpec {
  std::string name;
  CellType cell;
  Activation activation;  // RNN
  std::size_t head_out;
  bool head_bias;
};
const CellSpec kLstmCell{"lstm_cell", CellType::LSTM, Activation::Tanh, 4, true};
const CellSpec kGruCell{"gru_cell", CellType::GRU, Activation::Tanh, 3, false};
const CellSpec kRnnCell{"rnn_cell", CellType::RNN, Activation::Relu, 2, true};
const CellSpec kRnnTanhCell{"rnn_tanh_cell", CellType::RNN, Activation::Tanh, 2, true};
const std::vector<Spec> kSpecs{kLstm, kGru, kRnn};
const std::vector<CellSpec> kCellSpecs{kLstmCell, kGruCell, kRnnCell, kRnnTanhCell};

// A user's model of library layers: registered once, it maps to PyTorch
// with no code of its own.
template <class T>
struct Net : Module<T> {
  Net(Tape<T>& tape, const Spec& s, Rng& rng)
      : tape(tape),
        embed(s.vocab ? std::make_unique<Embedding<T>>(tape, s.vocab, kIn, rng, 0) : nullptr),
        rnn(tape, recurrent_options(s), rng),
        head(tape, kHidden * rnn.directions(), s.head_out, rng, s.head_bias) {
    if (embed) this->register_module("embed", *embed);
    this->register_module("rnn", rnn);
    this->register_module("head", head);
  }

  // As the Python model's forward: y = head(outputs), h_n, c_n stacked
  // (layers * directions, B, H).
  std::map<std::string, Tensor<T>> forward(const Checkpoint& in) const {
    const Var<T> x = embed ? embed->forward(get<std::int64_t>(in, "ids"))
                           : tape.constant(get<T>(in, "x"));
    const RecurrentOutput<T> r = rnn.forward(x);
    std::vector<Var<T>> h, c;
    for (const State<T>& s : r.final) {
      h.push_back(s.h);
      if (s.c.defined()) c.push_back(s.c);
    }
    std::map<std::string, Tensor<T>> out{{"y", head(r.output).value()},
                                         {"h_n", stack(h, 0).value()}};
    if (!c.empty()) out["c_n"] = stack(c, 0).value();
    return out;
  }

  Tape<T>& tape;
  std::unique_ptr<Embedding<T>> embed;
  Recurrent<T> rnn;
  Linear<T> head;
};

template <class T>
std::unique_ptr<Cell<T>> make_cell(Tape<T>& tape, const CellSpec& s, Rng& rng) {
  switch (s.cell) {
    case CellType::RNN:
      return std::make_unique<RNNCell<T>>(tape, kIn, kHidden, s.activation, RecurrentInit::Torch,
                                          rng);
    case CellType::LSTM: {
      typename LSTMCell<T>::Options o;
      o.init = RecurrentInit::Torch;
      return std::make_unique<LSTMCell<T>>(tape, kIn, kHidden, o, rng);
    }
    case CellType::GRU:
      break;
  }
  return std::make_unique<GRUCell<T>>(tape, kIn, kHidden, RecurrentInit::Torch, rng);
}

// A user's model holding a cell, which it runs step by step.
template <class T>
struct CellNet : Module<T> {
  CellNet(Tape<T>& tape, const CellSpec& s, Rng& rng)
      : tape(tape),
        cell(make_cell(tape, s, rng)),
        head(tape, kHidden, s.head_out, rng, s.head_bias) {
    this->register_module("cell", *cell);
    this->register_module("head", head);
  }

  // As the Python model's forward: from the state h0 (and c0) over every step
  // of x (T, B, in), h (and c) of every step and y = head(h); and one step on
  // x[0] from zeros.
  std::map<std::string, Tensor<T>> forward(const Checkpoint& in) const {
    const Var<T> x = tape.constant(get<T>(in, "x"));
    State<T> s{tape.constant(get<T>(in, "h0")),
               in.tensors.count("c0") ? tape.constant(get<T>(in, "c0")) : Var<T>()};
    std::vector<Var<T>> h, c;
    for (std::size_t t = 0; t < x.shape()[0]; ++t) {
      s = (*cell)(select(x, t), s);
      h.push_back(s.h);
      if (s.c.defined()) c.push_back(s.c);
    }
    const State<T> first = (*cell)(select(x, 0));
    std::map<std::string, Tensor<T>> out{{"y", head(stack(h, 0)).value()},
                                         {"h", stack(h, 0).value()},
                                         {"h_from_zeros", first.h.value()}};
    if (!c.empty()) {
      out["c"] = stack(c, 0).value();
      out["c_from_zeros"] = first.c.value();
    }
    return out;
  }

  Tape<T>& tape;
  std::unique_ptr<Cell<T>> cell;
  Linear<T> head;
};

// Every parameter's value, by our name.
template <class T>
std::map<std::string, Tensor<T>> values(const Module<T>& m) {
  std::map<std::string, Tensor<T>> out;
  for (const auto& p : m.named_parameters()) out[p.name] = p.var.value();
  return out;
}

// Model: Net for a Spec, CellNet for a CellSpec.
template <template <class> class Model, class T, class S>
void require_round_trip(const S& spec) {
  INFO(spec.name << (std::is_same_v<T, float> ? " float" : " double"));
  TempDir dir;
  Tape<T> tape;
  Rng rng(5), other(6);
  const Model<T> model(tape, spec, rng);
  export_torch(dir.file("m.safetensors"), model);
  Model<T> fresh(tape, spec, other);
  REQUIRE(values(fresh) != values(model));
  import_torch(dir.file("m.safetensors"), fresh);
  const auto want = values(model), got = values(fresh);
  REQUIRE(got.size() == want.size());
  for (const auto& [name, v] : want) {
    INFO(name);
    REQUIRE(same(got.at(name), v));  // bit for bit: the zero bias_hh adds exactly
  }
}

// The PyTorch names of a model's parameters, in state_dict order.
template <class T>
std::vector<std::string> torch_names(const Module<T>& m) {
  std::vector<std::string> names;
  for (const auto& p : torch_state(m).parameters) names.push_back(p.name);
  return names;
}

nlohmann::json torch_modules(const Checkpoint& ckpt) {
  return nlohmann::json::parse(ckpt.metadata.at("torch_modules"));
}

// The message of the tg::Error `f` throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("export_torch: PyTorch's names, shapes and layouts", "[layers][torch]") {
  Tape<float> tape;
  Rng rng(1);
  const Net<float> model(tape, kLstm, rng);
  const Checkpoint ckpt = torch_checkpoint(model);

  std::vector<std::string> expected;  // nn.LSTM's state_dict order, then the head's
  for (const char* layer : {"_l0", "_l0_reverse", "_l1", "_l1_reverse"})
    for (const char* w : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
      expected.push_back(std::string("rnn.") + w + layer);
  expected.push_back("head.weight");
  expected.push_back("head.bias");
  REQUIRE(torch_names(model) == expected);
  check_names(ckpt, expected);

  // Weights transposed to (out, in); the one bias in bias_ih, bias_hh zero.
  const auto& bwd1 = static_cast<const LSTMCell<float>&>(model.rnn.cell(1, 1));
  REQUIRE(same(get<float>(ckpt, "rnn.weight_ih_l1_reverse", {24, 12}),
               Tensor<float>(xt::transpose(bwd1.weight_ih.value()))));
  REQUIRE(same(get<float>(ckpt, "rnn.weight_hh_l1_reverse", {24, 6}),
               Tensor<float>(xt::transpose(bwd1.weight_hh.value()))));
  REQUIRE(same(get<float>(ckpt, "rnn.bias_ih_l1_reverse", {24}), bwd1.bias.value()));
  REQUIRE(same(get<float>(ckpt, "rnn.bias_hh_l1_reverse", {24}), zeros<float>(Shape{24})));
  REQUIRE(same(get<float>(ckpt, "head.weight", {4, 12}),
               Tensor<float>(xt::transpose(model.head.weight.value()))));
  REQUIRE(same(get<float>(ckpt, "head.bias", {4}), model.head.bias.value()));

  REQUIRE(ckpt.metadata.at("format") == "pt");
  REQUIRE(torch_modules(ckpt) ==
          nlohmann::json{{"rnn", "nn.LSTM(input_size=5, hidden_size=6, num_layers=2, "
                                 "bidirectional=True)"},
                         {"head", "nn.Linear(12, 4)"}});

  // A GRU keeps both biases; an Embedding is (num, dim) on both sides.
  const Net<float> gru(tape, kGru, rng);
  const Checkpoint g = torch_checkpoint(gru);
  const auto& cell = static_cast<const GRUCell<float>&>(gru.rnn.cell(0, 0));
  REQUIRE(same(get<float>(g, "rnn.bias_ih_l0", {18}), cell.bias_ih.value()));
  REQUIRE(same(get<float>(g, "rnn.bias_hh_l0", {18}), cell.bias_hh.value()));
  REQUIRE(same(get<float>(g, "embed.weight", {11, 5}), gru.embed->weight.value()));
  check_names(g, {"embed.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
                  "rnn.bias_hh_l0", "head.weight"});
  REQUIRE(torch_modules(g) ==
          nlohmann::json{{"embed", "nn.Embedding(11, 5, padding_idx=0)"},
                         {"rnn", "nn.GRU(input_size=5, hidden_size=6)"},
                         {"head", "nn.Linear(6, 3, bias=False)"}});
}

TEST_CASE("export_torch: a cell maps to nn.LSTMCell, nn.GRUCell or nn.RNNCell", "[layers][torch]") {
  const std::map<std::string, std::string> calls{
      {"lstm_cell", "nn.LSTMCell(5, 6)"},
      {"gru_cell", "nn.GRUCell(5, 6)"},
      {"rnn_cell", "nn.RNNCell(5, 6, nonlinearity='relu')"},
      {"rnn_tanh_cell", "nn.RNNCell(5, 6)"}};
  for (const CellSpec& s : kCellSpecs) {
    INFO(s.name);
    Tape<float> tape;
    Rng rng(9);
    const CellNet<float> model(tape, s, rng);
    const Checkpoint ckpt = torch_checkpoint(model);
    std::vector<std::string> expected{"cell.weight_ih", "cell.weight_hh", "cell.bias_ih",
                                      "cell.bias_hh", "head.weight"};
    if (s.head_bias) expected.push_back("head.bias");
    REQUIRE(torch_names(model) == expected);  // nn.*Cell's state_dict order
    check_names(ckpt, expected);

    // Weights transposed to (G*H, in) and (G*H, H); an RNN's or LSTM's one
    // bias in bias_ih, bias_hh zero; a GRU's two biases as they are.
    const auto ours = values(*model.cell);
    const std::size_t gh = ours.at("weight_ih").shape()[1];
    REQUIRE(same(get<float>(ckpt, "cell.weight_ih", {gh, kIn}),
                 Tensor<float>(xt::transpose(ours.at("weight_ih")))));
    REQUIRE(same(get<float>(ckpt, "cell.weight_hh", {gh, kHidden}),
                 Tensor<float>(xt::transpose(ours.at("weight_hh")))));
    const bool gru = s.cell == CellType::GRU;
    REQUIRE(same(get<float>(ckpt, "cell.bias_ih", {gh}), ours.at(gru ? "bias_ih" : "bias")));
    REQUIRE(same(get<float>(ckpt, "cell.bias_hh", {gh}),
                 gru ? ours.at("bias_hh") : zeros<float>(Shape{gh})));

    const nlohmann::json modules = torch_modules(ckpt);
    REQUIRE(modules.size() == 2);
    REQUIRE(modules.at("cell") == calls.at(s.name));
    REQUIRE(modules.contains("head"));

    // A bare cell exports under nn.*Cell's own names, no prefix.
    const Checkpoint bare = torch_checkpoint(*model.cell);
    check_names(bare, {"weight_ih", "weight_hh", "bias_ih", "bias_hh"});
    REQUIRE(torch_modules(bare) == nlohmann::json{{"", calls.at(s.name)}});
  }
}

TEST_CASE("export_torch then import_torch into a fresh model: identical parameters",
          "[layers][torch]") {
  for (const Spec& s : kSpecs) {
    require_round_trip<Net, float>(s);
    require_round_trip<Net, double>(s);
  }
  for (const CellSpec& s : kCellSpecs) {
    require_round_trip<CellNet, float>(s);
    require_round_trip<CellNet, double>(s);
  }
  // A bare layer exports under PyTorch's own names, no prefix.
  Tape<float> tape;
  Rng rng(2);
  const Recurrent<float> layer(tape, recurrent_options(kRnn), rng);
  const Checkpoint ckpt = torch_checkpoint(layer);
  REQUIRE(ckpt.tensors.count("weight_ih_l1"));
  REQUIRE(torch_modules(ckpt) ==
          nlohmann::json{{"", "nn.RNN(input_size=5, hidden_size=6, num_layers=2, "
                              "nonlinearity='relu', batch_first=True)"}});
}

TEST_CASE("import_torch: bias_ih + bias_hh into the one bias, and errors leave the model unchanged",
          "[layers][torch]") {
  Tape<float> tape;
  Rng rng(3);
  Net<float> model(tape, kLstm, rng);
  const auto before = values(model);
  const Checkpoint good = torch_checkpoint(model);

  Checkpoint two = good;  // PyTorch's own files have both biases
  put(two, "rnn.bias_ih_l0", Tensor<float>(xt::ones<float>({24}) * 0.25f));
  put(two, "rnn.bias_hh_l0", Tensor<float>(xt::ones<float>({24}) * 0.5f));
  import_torch(two, model);
  const Var<float> bias = model.rnn.named_parameters()[2].var;  // l0.fwd.bias
  REQUIRE(same(bias.value(), Tensor<float>(xt::ones<float>({24}) * 0.75f)));
  import_torch(good, model);
  REQUIRE(values(model) == before);

  auto refused = [&](Checkpoint ckpt, bool strict = true) {
    const std::string message = error_of([&] { import_torch(ckpt, model, strict); });
    REQUIRE(values(model) == before);
    return message;
  };
  Checkpoint extra = good;
  put(extra, "head.extra", zeros<float>(Shape{1}));
  REQUIRE_THAT(refused(extra), Contains("unexpected 'head.extra'"));
  import_torch(extra, model, /*strict=*/false);  // as load_state_dict(strict=False)
  REQUIRE(values(model) == before);

  Checkpoint missing = good;
  missing.tensors.erase("rnn.bias_hh_l1");
  REQUIRE_THAT(refused(missing), Contains("missing 'rnn.bias_hh_l1'"));
  REQUIRE_THAT(refused(missing, false), Contains("no tensor named 'rnn.bias_hh_l1'"));

  Checkpoint ours_layout = good;  // (in, out): not PyTorch's
  put(ours_layout, "head.weight", model.head.weight.value());
  REQUIRE_THAT(refused(ours_layout), Contains("'head.weight': shape (12, 4), expected (4, 12)"));

  Checkpoint f64 = good;
  put(f64, "head.bias", Tensor<double>(xt::zeros<double>({4})));
  REQUIRE_THAT(refused(f64), Contains("dtype F64, expected F32"));
}

TEST_CASE("export_torch refuses what PyTorch has no equivalent of", "[layers][torch]") {
  Tape<float> tape;
  Rng rng(4);
  auto refusal = [&](RecurrentOptions o) {
    const Recurrent<float> layer(tape, o, rng);
    return error_of([&] { torch_checkpoint(layer); });
  };
  RecurrentOptions lstm = recurrent_options(kLstm);
  lstm.peephole(true);
  REQUIRE_THAT(refusal(lstm), Contains("layer 0 forward: LSTM peephole connections have no "
                                       "PyTorch equivalent"));
  lstm.peephole(false);
  lstm.cell_activation(Activation::Identity);
  REQUIRE_THAT(refusal(lstm),
               Contains("the LSTM cell activation (g) identity has no PyTorch equivalent"));
  lstm.cell_activation(Activation::Tanh);
  lstm.output_activation(Activation::Relu);
  REQUIRE_THAT(refusal(lstm),
               Contains("the LSTM output activation (h) relu has no PyTorch equivalent"));
  RecurrentOptions rnn = recurrent_options(kRnn);
  rnn.activation(Activation::Sigmoid);
  REQUIRE_THAT(refusal(rnn), Contains("the RNN activation sigmoid has no PyTorch equivalent "
                                      "(nn.RNN has tanh or relu)"));

  // A forget bias is only a value: exported like any other.
  lstm.output_activation(Activation::Tanh);
  lstm.forget_bias(2.0);
  REQUIRE(refusal(lstm).empty());

  // A custom cell, and a model that maps none of its members.
  struct Custom : RNNCell<float> {
    using RNNCell<float>::RNNCell;
  };
  const Recurrent<float> custom(tape, recurrent_options(kRnn), rng,
                                [](Tape<float>& t, std::size_t in, std::size_t h, Rng& r) {
                                  return std::make_unique<Custom>(t, in, h, Activation::Tanh,
                                                                  RecurrentInit::Torch, r);
                                });
  REQUIRE_THAT(error_of([&] { torch_checkpoint(custom); }),
               Contains("PyTorch interop: the model, layer 0: the custom cell") &&
                   Contains("Custom has no PyTorch equivalent"));

  // A model's own bare parameter maps as an nn.Parameter of the same name,
  // in our layout; its layers as themselves.
  struct Scaled : Module<float> {
    Linear<float> head;
    Var<float> scale;
    Scaled(Tape<float>& t, Rng& r) : head(t, 2, 3, r), scale(t.parameter(tg::zeros<float>(Shape{3}))) {
      register_module("head", head);
      register_parameter("scale", scale);
    }
  };
  const Scaled scaled(tape, rng);
  const TorchState<float> state = torch_state(scaled);
  REQUIRE(state.parameters.size() == 3);
  CHECK(state.parameters[0].name == "head.weight");
  CHECK(state.parameters[0].layout == TorchLayout::Transposed);
  CHECK(state.parameters[2].name == "scale");
  CHECK(state.parameters[2].layout == TorchLayout::Same);
  REQUIRE(state.modules.size() == 1);
  CHECK(state.modules[0].first == "head");
}

TEST_CASE("export_torch refuses a cell PyTorch has no equivalent of, naming nn.*Cell",
          "[layers][torch]") {
  Tape<float> tape;
  Rng rng(10);
  // The message for a decoder's member cell, the same for the cell on its own.
  struct Decoder : Module<float> {
    explicit Decoder(Cell<float>& cell) { register_module("decoder", cell); }
  };
  auto refusal = [&](Cell<float>&& cell) {
    const std::string inside = error_of([&] { torch_checkpoint(Decoder(cell)); });
    const std::string where = "PyTorch interop: module 'decoder': ";
    REQUIRE(inside.rfind(where, 0) == 0);
    REQUIRE(error_of([&] { torch_checkpoint(cell); }) ==
            "PyTorch interop: the model: " + inside.substr(where.size()));
    return inside;
  };
  auto lstm = [&](auto&& set) {
    LSTMCell<float>::Options o;
    set(o);
    return LSTMCell<float>(tape, kIn, kHidden, o, rng);
  };
  REQUIRE_THAT(refusal(lstm([](auto& o) { o.peephole = true; })),
               Contains("LSTM peephole connections have no PyTorch equivalent (nn.LSTMCell has "
                        "none)"));
  REQUIRE_THAT(refusal(lstm([](auto& o) { o.cell_activation = Activation::Identity; })),
               Contains("the LSTM cell activation (g) identity has no PyTorch equivalent "
                        "(nn.LSTMCell uses tanh)"));
  REQUIRE_THAT(refusal(lstm([](auto& o) { o.output_activation = Activation::Relu; })),
               Contains("the LSTM output activation (h) relu has no PyTorch equivalent "
                        "(nn.LSTMCell uses tanh)"));
  REQUIRE_THAT(refusal(RNNCell<float>(tape, kIn, kHidden, Activation::Sigmoid,
                                      RecurrentInit::Torch, rng)),
               Contains("the RNN activation sigmoid has no PyTorch equivalent (nn.RNNCell has "
                        "tanh or relu)"));
  struct Custom : GRUCell<float> {
    using GRUCell<float>::GRUCell;
  };
  REQUIRE_THAT(refusal(Custom(tape, kIn, kHidden, RecurrentInit::Torch, rng)),
               Contains("Custom has no PyTorch equivalent (only our RNN, LSTM and GRU cells map "
                        "to nn.RNNCell, nn.LSTMCell and nn.GRUCell)"));
  // A forget bias is only a value: exported like any other.
  REQUIRE(
      error_of([&] { torch_checkpoint(lstm([](auto& o) { o.forget_bias = 2.0f; })); }).empty());
}

// ---- PyTorch itself ---------------------------------------------------------

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kScript = std::string(TAPEGRAD_SOURCE_DIR) + "/tests/layers/torch_interop.py";

void require_torch() {
  const std::string probe = kPython + " -c 'import torch' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0)
    FAIL("PyTorch is missing: " << kPython
                                << " cannot import torch. Install it: apt-get install -y "
                                   "python3-torch (scripts/test.sh does)");
}

std::string run_script(const std::string& mode, const std::string& dir) {
  return run_ok(kPython + " '" + kScript + "' " + mode + " '" + dir + "'");
}

double max_difference(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(to_shape(a.shape()) == to_shape(b.shape()));
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a.data()[i]) - double(b.data()[i])));
  return worst;
}

// The inputs of the models of torch_interop.py.
Checkpoint input_for(const Spec& s, Rng& rng) {
  Checkpoint io;
  if (s.vocab) {
    Tensor<std::int64_t> ids = Tensor<std::int64_t>::from_shape({kSteps, kBatch});
    std::uniform_int_distribution<std::int64_t> id(0, std::int64_t(s.vocab) - 1);
    for (auto& v : ids) v = id(rng);  // 0, the padding id, included
    put(io, "ids", ids);
  } else {
    put(io, "x", uniform<float>(s.batch_first ? Shape{kBatch, kSteps, kIn}
                                              : Shape{kSteps, kBatch, kIn},
                                -1, 1, rng));
  }
  return io;
}
Checkpoint input_for(const CellSpec& s, Rng& rng) {
  Checkpoint io;
  put(io, "x", uniform<float>(Shape{kSteps, kBatch, kIn}, -1, 1, rng));
  put(io, "h0", uniform<float>(Shape{kBatch, kHidden}, -1, 1, rng));
  if (s.cell == CellType::LSTM) put(io, "c0", uniform<float>(Shape{kBatch, kHidden}, -1, 1, rng));
  return io;
}

// For "torch_interop.py check": DIR/<name>.safetensors, our export, and
// DIR/<name>_io.safetensors, an input with our outputs.
template <template <class> class Model, class S>
void save_for_torch(const TempDir& dir, const S& spec) {
  Tape<float> tape;
  Rng rng(7);
  const Model<float> model(tape, spec, rng);
  export_torch(dir.file(spec.name + ".safetensors"), model);
  Checkpoint io = input_for(spec, rng);
  for (const auto& [name, value] : model.forward(io)) put(io, name, value);
  save_safetensors(dir.file(spec.name + "_io.safetensors"), io);
}

// After "torch_interop.py make": PyTorch's DIR/torch_<name>.safetensors
// imported, our outputs on its input against its outputs (a CHECK: every
// model is tried).
template <template <class> class Model, class S>
void check_torch_outputs(const TempDir& dir, const S& spec) {
  INFO(spec.name);
  Tape<float> tape;
  Rng rng(8);
  Model<float> model(tape, spec, rng);
  import_torch(dir.file("torch_" + spec.name + ".safetensors"), model);
  const Checkpoint io = load_safetensors(dir.file("torch_" + spec.name + "_io.safetensors"));
  double worst = 0;
  for (const auto& [name, value] : model.forward(io)) {
    INFO(name);
    worst = std::max(worst, max_difference(value, get<float>(io, name)));
  }
  std::cout << "we ran PyTorch's " << spec.name << ": max |ours - torch| = " << worst << "\n";
  CHECK(worst <= 1e-5);
}

}  // namespace

TEST_CASE("PyTorch loads our export with strict=True and computes our outputs",
          "[layers][torch][python]") {
  require_torch();
  TempDir dir;
  std::vector<std::string> names;
  for (const Spec& s : kSpecs) {
    save_for_torch<Net>(dir, s);
    names.push_back(s.name);
  }
  for (const CellSpec& s : kCellSpecs) {
    save_for_torch<CellNet>(dir, s);
    names.push_back(s.name);
  }
  // The script's last line is the JSON (anything torch warned comes before).
  std::string out = run_script("check", dir.path.string());
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const auto worst = nlohmann::json::parse(out.substr(out.rfind('\n') + 1));
  REQUIRE(worst.size() == names.size());
  for (const std::string& name : names) {
    std::cout << "PyTorch ran our " << name << ": max |torch - ours| = "
              << worst.at(name).get<double>() << "\n";
    REQUIRE(worst.at(name).get<double>() <= 1e-5);
  }
}

TEST_CASE("we import PyTorch's state_dict and compute PyTorch's outputs",
          "[layers][torch][python]") {
  require_torch();
  TempDir dir;
  run_script("make", dir.path.string());
  for (const Spec& s : kSpecs) check_torch_outputs<Net>(dir, s);
  for (const CellSpec& s : kCellSpecs) check_torch_outputs<CellNet>(dir, s);
}

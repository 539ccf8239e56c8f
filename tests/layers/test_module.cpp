// Modules: members registered where they are made, and everything that
// follows from it (names, parameters(), train/eval, summary, frozen
// parameters); a parameter left out trains silently no more.
#include "../autograd/check.hpp"
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/optim/optim.hpp>

using namespace tg;
using Catch::Matchers::Contains;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

template <class T>
Tensor<T> ones(const Shape& shape) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  t.fill(T(1));
  return t;
}

template <class T>
bool same(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

std::vector<std::string> names_of(const std::vector<NamedParameter<double>>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.name);
  return out;
}

// A model of a layer, a bare parameter and a model of its own.
template <class T>
struct Encoder : Module<T> {
  Encoder(Tape<T>& tape, Rng& rng) : proj(tape, 3, 4, rng), drop(T(0.5)) {
    this->register_module("proj", proj);
    this->register_module("drop", drop);
  }
  Linear<T> proj;
  Dropout<T> drop;
};

template <class T>
struct Net : Module<T> {
  Net(Tape<T>& tape, Rng& rng)
      : encoder(tape, rng), scale(tape.parameter(uniform<T>(Shape{4}, T(0.5), T(1.5), rng))),
        head(tape, 4, 2, rng, /*bias=*/false) {
    this->register_module("encoder", encoder);
    this->register_parameter("scale", scale);
    this->register_module("head", head);
  }
  Var<T> forward(const Var<T>& x) const { return head(tanh(encoder.proj(x)) * scale); }
  Encoder<T> encoder;
  Var<T> scale;
  Linear<T> head;
};

// The same model with a member its author forgot to register.
struct Forgetful : Module<float> {
  Forgetful(Tape<float>& tape, Rng& rng) : first(tape, 3, 4, rng), second(tape, 4, 2, rng) {
    register_module("first", first);
  }
  Var<float> forward(const Var<float>& x) const { return second(tanh(first(x))); }
  Linear<float> first;
  Linear<float> second;  // not registered
};

}  // namespace

TEST_CASE("a model's names follow its registrations: nested models, bare parameters",
          "[layers][module]") {
  Tape<double> tape;
  Rng rng(1);
  Net<double> net(tape, rng);
  CHECK(names_of(net.named_parameters()) ==
        std::vector<std::string>{"encoder.proj.weight", "encoder.proj.bias", "scale", "head.weight"});
  CHECK(names_of(net.named_parameters("net.")).front() == "net.encoder.proj.weight");
  CHECK(net.parameters().size() == 4);
  CHECK(net.parameter_count() == 12 + 4 + 4 + 8);
  std::vector<std::string> modules;
  for (const auto& [name, m] : net.named_modules()) modules.push_back(name);
  CHECK(modules == std::vector<std::string>{"", "encoder", "encoder.proj", "encoder.drop", "head"});
  // The registry points at the members: a member replaced is the one listed.
  net.scale = tape.parameter(tg::zeros<double>(Shape{4}));
  CHECK(net.named_parameters()[2].var.node() == net.scale.node());

  Rng x_rng(2);
  const Var<double> x = tape.constant(uniform<double>(Shape{5, 3}, -1, 1, x_rng));
  test::require_gradcheck(tape, net.parameters(), [&] { return net.forward(x); });
}

TEST_CASE("a name registered twice, or empty, is an error", "[layers][module]") {
  struct Twice : Module<float> {
    Linear<float> a, b;
    Twice(Tape<float>& t, Rng& r) : a(t, 2, 2, r), b(t, 2, 2, r) {
      register_module("a", a);
      register_module("a", b);
    }
  };
  struct Empty : Module<float> {
    Linear<float> a;
    Empty(Tape<float>& t, Rng& r) : a(t, 2, 2, r) { register_module("", a); }
  };
  Tape<float> tape;
  Rng rng(1);
  CHECK_THAT(error_of([&] { Twice t(tape, rng); }), Contains("'a' is registered twice"));
  CHECK_THAT(error_of([&] { Empty e(tape, rng); }), Contains("is not a name"));
}

TEST_CASE("train() and eval() reach every submodule, and Dropout follows", "[layers][module]") {
  Tape<double> tape;
  Rng rng(1);
  Net<double> net(tape, rng);
  for (const auto& [name, m] : net.named_modules()) CHECK(m->is_training());
  net.eval();
  for (const auto& [name, m] : net.named_modules()) {
    INFO(name);
    CHECK_FALSE(m->is_training());
  }
  const Var<double> x = tape.constant(ones<double>(Shape{50}));
  Rng drop_rng(3);
  CHECK(same(net.encoder.drop(x, drop_rng).value(), x.value()));  // off in eval
  net.train();
  CHECK(net.encoder.drop.is_training());
  const Tensor<double> dropped = net.encoder.drop(x, drop_rng).value();
  CHECK(std::count(dropped.begin(), dropped.end(), 0.0) > 0);  // on again
  CHECK(std::count(dropped.begin(), dropped.end(), 2.0) > 0);  // kept ones scaled by 1 / (1 - p)
}

TEST_CASE("frozen parameters: no gradient, out of parameters(), kept in named_parameters()",
          "[layers][module]") {
  Tape<double> tape;
  Rng rng(1);
  Net<double> net(tape, rng);
  net.encoder.requires_grad(false);
  CHECK(net.parameters().size() == 2);  // scale, head.weight
  CHECK(net.named_parameters().size() == 4);
  Rng x_rng(2);
  const Var<double> x = tape.constant(uniform<double>(Shape{5, 3}, -1, 1, x_rng));
  Adam<double> adam(net.parameters(), 0.1);
  const Tensor<double> before = net.encoder.proj.weight.value();
  tape.backward(sum(net.forward(x)));
  CHECK_FALSE(net.encoder.proj.weight.has_grad());
  adam.step();  // a frozen parameter with no gradient is no error
  CHECK(same(net.encoder.proj.weight.value(), before));
  CHECK(net.head.weight.has_grad());
  CHECK_THAT(net.summary(), Contains("frozen"));
  // Only a leaf can be frozen.
  tape.clear();
  const Var<double> y = net.forward(x);
  CHECK_THAT(error_of([&] { Var<double>(y).set_requires_grad(false); }), Contains("only a leaf"));
}

TEST_CASE("a parameter that gets a gradient but no optimizer updates is an error naming it",
          "[layers][module]") {
  Tape<float> tape;
  Rng rng(1);
  Forgetful model(tape, rng);
  Adam<float> adam(model.parameters(), 1e-3f);
  const Var<float> x = tape.constant(ones<float>(Shape{5, 3}));
  tape.backward(sum(model.forward(x)));
  const std::string message = error_of([&] { adam.step(); });
  CHECK_THAT(message, Contains("a parameter of shape (4, 2)"));
  CHECK_THAT(message, Contains("'weight' of a tg::Linear<float>"));
  CHECK_THAT(message, Contains("layers/linear.cpp:"));
  CHECK_THAT(message, Contains("no optimizer updates it"));

  // A second optimizer over it: then it is updated, and no error.
  {
    Adam<float> other(model.second.parameters(), 1e-3f);
    CHECK_NOTHROW(adam.step());
  }
  // That optimizer gone, the parameter is no one's again.
  CHECK_THAT(error_of([&] { adam.step(); }), Contains("a parameter of shape (4, 2)"));

  // A bare parameter is named by the line that made it.
  Tape<float> tape2;
  Var<float> w = tape2.parameter(ones<float>(Shape{3})), v = tape2.parameter(ones<float>(Shape{3}));
  SGD<float> sgd({w}, 0.1f);
  tape2.backward(sum(w * v));
  CHECK_THAT(error_of([&] { sgd.step(); }), Contains("test_module.cpp:"));
}

TEST_CASE("gradcheck fails when f reaches a parameter it does not perturb", "[layers][module]") {
  Tape<double> tape;
  Rng rng(1);
  Net<double> net(tape, rng);
  const Var<double> x = tape.constant(ones<double>(Shape{2, 3}));
  std::vector<Var<double>> some = net.parameters();
  some.pop_back();  // head.weight left out
  const GradcheckResult r = gradcheck(tape, some, [&] { return net.forward(x); });
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.report(), Contains("(4, 2)") && Contains("not among the inputs checked"));
  CHECK(gradcheck(tape, net.parameters(), [&] { return net.forward(x); }).ok);
}

TEST_CASE("summary: every module, parameter, shape and count, and the total", "[layers][module]") {
  Tape<float> tape;
  Rng rng(1);
  Recurrent<float> rnn(tape, RecurrentOptions(3, 4).cell(CellType::LSTM).num_layers(2).bidirectional(true), rng);
  const std::string s = rnn.summary();
  INFO(s);
  CHECK_THAT(s, Contains("LSTM(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)"));
  CHECK_THAT(s, Contains("l1.bwd") && Contains("LSTMCell(input_size=8, hidden_size=4)"));
  CHECK_THAT(s, Contains("l0.fwd.weight_ih") && Contains("(3, 16)"));
  CHECK_THAT(s, Contains("total: " + std::to_string(rnn.parameter_count()) + " parameters"));

  Tape<double> t2;
  Net<double> net(t2, rng);
  const std::string n = net.summary();
  INFO(n);
  CHECK_THAT(n, Contains("Linear(in_features=3, out_features=4, bias=True)"));
  CHECK_THAT(n, Contains("Dropout(p=0.5)"));
  CHECK_THAT(n, Contains("total: 28 parameters (28 trainable, 0 frozen)"));
}

TEST_CASE("a cell on its own: cell(x, state) is one step, gradchecked over steps",
          "[layers][module][cell]") {
  Tape<double> tape;
  Rng rng(4);
  LSTMCell<double> lstm(tape, 3, 4, LSTMCell<double>::Options{}, rng);
  GRUCell<double> gru(tape, 3, 4, RecurrentInit::Torch, rng);
  RNNCell<double> rnn(tape, 3, 4, Activation::Tanh, RecurrentInit::Torch, rng);
  std::vector<Var<double>> xs;
  for (int t = 0; t < 3; ++t) xs.push_back(test::rand_param(tape, Shape{2, 3}, rng));
  const Var<double> h0 = test::rand_param(tape, Shape{2, 4}, rng);

  for (const Cell<double>* cell : std::vector<const Cell<double>*>{&lstm, &gru, &rnn}) {
    INFO(cell->describe());
    const State<double> zero = cell->zero_state(xs[0]);
    State<double> a = (*cell)(xs[0]);
    State<double> b = cell->step(cell->project(xs[0]), zero);
    CHECK(same(a.h.value(), b.h.value()));
    std::vector<Var<double>> inputs = cell->parameters();
    inputs.insert(inputs.end(), xs.begin(), xs.end());
    inputs.push_back(h0);
    test::require_gradcheck(tape, inputs, [&] {
      State<double> s = cell->zero_state(h0);
      s.h = h0;
      for (const Var<double>& x : xs) s = (*cell)(x, s);
      return cell->has_cell_state() ? concat({s.h, s.c}, 1) : s.h;
    });
    tape.clear();
  }
  CHECK_THAT(error_of([&] { lstm(tape.constant(ones<double>(Shape{3}))); }), Contains("(batch, features)"));
}

TEST_CASE("detach(state): the same values, and no gradient flows back through it",
          "[layers][module][cell]") {
  Tape<double> tape;
  Rng rng(5);
  LSTMCell<double> cell(tape, 3, 4, LSTMCell<double>::Options{}, rng);
  const Var<double> x = tape.constant(uniform<double>(Shape{2, 3}, -1, 1, rng));
  const State<double> first = cell(x);
  const State<double> carried = detach(first);
  CHECK(same(carried.h.value(), first.h.value()));
  CHECK(same(carried.c.value(), first.c.value()));
  CHECK_FALSE(carried.h.requires_grad());
  // The second window's loss reaches the weights only through its own step:
  // the same gradient as from a constant state of those values.
  tape.backward(sum(cell(x, carried).h));
  const Tensor<double> through_detached = cell.weight_ih.grad();
  for (Var<double>& p : cell.parameters()) p.zero_grad();
  tape.clear();
  const State<double> constant{tape.constant(first.h.value()), tape.constant(first.c.value())};
  tape.backward(sum(cell(x, constant).h));
  CHECK(same(cell.weight_ih.grad(), through_detached));
  // Through the undetached state the gradient differs (the first step counts too).
  for (Var<double>& p : cell.parameters()) p.zero_grad();
  tape.clear();
  const State<double> again = cell(x);
  tape.backward(sum(cell(x, again).h));
  CHECK_FALSE(same(cell.weight_ih.grad(), through_detached));
}

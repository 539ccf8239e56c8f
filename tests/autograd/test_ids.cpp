// Ids of any integer type (cross_entropy's targets, index_select's rows),
// cross_entropy's ignore_index (against the loss over the kept rows and
// against PyTorch), detach, and concat/stack of a brace list.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include <xtensor/xview.hpp>

#include "check.hpp"

using namespace tg;
using tg::test::rand_param;
using tg::test::require_gradcheck;

namespace {

// The rows of x (rows, C) listed in `keep`, as a new leaf.
Var<double> rows_of(Tape<double>& tape, const Var<double>& x, const std::vector<std::size_t>& keep) {
  Tensor<double> v = Tensor<double>::from_shape({keep.size(), x.shape()[1]});
  for (std::size_t i = 0; i < keep.size(); ++i) xt::view(v, i, xt::all()) = xt::view(x.value(), keep[i], xt::all());
  return tape.parameter(v);
}

}  // namespace

TEST_CASE("cross_entropy: targets of any integer type and container", "[ops][loss][ids]") {
  Tape<double> tape;
  Rng rng(21);
  Var<double> x = rand_param(tape, {4, 3}, rng, -2, 2);
  const double expected = cross_entropy(x, std::vector<std::int64_t>{0, 2, 1, 2}).item();
  REQUIRE(cross_entropy(x, std::vector<int>{0, 2, 1, 2}).item() == expected);
  REQUIRE(cross_entropy(x, std::vector<std::int32_t>{0, 2, 1, 2}).item() == expected);
  REQUIRE(cross_entropy(x, std::vector<std::size_t>{0, 2, 1, 2}).item() == expected);
  REQUIRE(cross_entropy(x, std::vector<unsigned char>{0, 2, 1, 2}).item() == expected);
  REQUIRE(cross_entropy(x, xt::xarray<int>{0, 2, 1, 2}).item() == expected);
  REQUIRE(cross_entropy(x, Tensor<std::int64_t>{0, 2, 1, 2}).item() == expected);
  REQUIRE(cross_entropy(x, Tensor<short>{0, 2, 1, 2}).item() == expected);
  REQUIRE(cross_entropy(x, xt::xarray<std::int64_t>{{0, 2}, {1, 2}}).item() == expected);
  REQUIRE(cross_entropy(x, {0, 2, 1, 2}).item() == expected);
  require_gradcheck(tape, {x}, [&] { return cross_entropy(x, std::vector<int>{0, 2, 1, 2}); });
  REQUIRE_THROWS_WITH(cross_entropy(x, std::vector<int>{0, 2, -3, 2}), Catch::Contains("target -3 at row 2"));
  REQUIRE_THROWS_WITH(cross_entropy(x, std::vector<std::size_t>{0, 2, std::size_t(-1), 2}),
                      Catch::Contains("cross_entropy: index 18446744073709551615 at position 2 is too large"));
}

TEST_CASE("cross_entropy with ignore_index equals the loss over the kept rows, gradchecked", "[ops][loss][ids]") {
  Tape<double> tape;
  Rng rng(22);
  Var<double> x = rand_param(tape, {5, 3}, rng, -2, 2);
  // 2 is a class, so a loss that did not skip its rows would still be finite.
  for (std::int64_t ignore : {std::int64_t(-100), std::int64_t(2)}) {
    INFO("ignore_index " << ignore);
    const std::vector<int> t = {0, int(ignore), 1, int(ignore), 1};
    require_gradcheck(tape, {x}, [&] { return cross_entropy(x, t, {}, ignore); });
    // With weights too: the ignored rows count as weight 0, the others keep theirs.
    const std::vector<double> w = {0.5, 1, 2, 1, 0.25};
    require_gradcheck(tape, {x}, [&] { return cross_entropy(x, t, w, ignore); });
    tape.clear();
    x.zero_grad();
    Var<double> kept = rows_of(tape, x, {0, 2, 4});
    const Var<double> loss = cross_entropy(x, t, w, ignore), ref = cross_entropy(kept, {0, 1, 1}, {0.5, 2, 0.25});
    REQUIRE(loss.item() == Approx(ref.item()).epsilon(1e-14));
    tape.backward(loss);
    tape.backward(ref);
    for (std::size_t r : {1, 3}) REQUIRE(xt::all(xt::equal(xt::view(x.grad(), r, xt::all()), 0.0)));
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t c = 0; c < 3; ++c)
        REQUIRE(x.grad()(std::size_t(2 * i), c) == Approx(kept.grad()(i, c)).epsilon(1e-14));
  }
  // Nothing kept: 0, and no gradient (PyTorch gives NaN).
  tape.clear();
  x.zero_grad();
  const Var<double> none = cross_entropy(x, std::vector<int>(5, -100), {}, -100);
  REQUIRE(none.item() == 0.0);
  // Without an ignore_index, -100 is a bad target as before.
  REQUIRE_THROWS_WITH(cross_entropy(x, {0, -100, 1, 1, 1}), Catch::Contains("target -100 at row 1"));
}

TEST_CASE("cross_entropy with ignore_index: value and gradient equal PyTorch's", "[ops][loss][ids][python]") {
  const std::string python = "/usr/bin/python3";
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0) {
    WARN("python3 with torch not found at " << python << ": comparison skipped");
    return;
  }
  const Tensor<double> logits = {{0.3, -1.2, 2.0}, {1.5, 0.1, -0.4}, {-2.0, 0.7, 0.2}, {0.0, 0.9, -0.3}};
  const std::vector<int> t = {2, -100, 0, 1};
  const std::string script =
      "import torch\n"
      "x = torch.tensor([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4], [-2.0, 0.7, 0.2], [0.0, 0.9, -0.3]],"
      " dtype=torch.float64, requires_grad=True)\n"
      "y = torch.nn.functional.cross_entropy(x, torch.tensor([2, -100, 0, 1]), ignore_index=-100)\n"
      "y.backward()\n"
      "print(repr(y.item()), *[repr(g) for g in x.grad.flatten().tolist()])\n";
  FILE* p = popen((python + " -c '" + script + "'").c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  std::istringstream in(out);
  double torch_loss = 0;
  in >> torch_loss;
  Tape<double> tape;
  Var<double> x = tape.parameter(logits);
  const Var<double> loss = cross_entropy(x, t, {}, -100);
  tape.backward(loss);
  INFO("PyTorch printed: " << out);
  REQUIRE(loss.item() == Approx(torch_loss).epsilon(1e-13));
  for (std::size_t i = 0; i < x.size(); ++i) {
    double g = 0;
    REQUIRE(in >> g);
    REQUIRE(x.grad().data()[i] == Approx(g).epsilon(1e-12).margin(1e-15));
  }
}

TEST_CASE("index_select: ids of any integer type, range errors name the index", "[ops][shape][ids]") {
  Tape<double> tape;
  Rng rng(23);
  Var<double> table = rand_param(tape, {5, 2}, rng);
  const Tensor<double> expected = index_select(table, Tensor<std::int64_t>{{4, 0}, {4, 1}}).value();
  REQUIRE((expected.shape() == Tensor<double>::shape_type{2, 2, 2}));
  REQUIRE((index_select(table, std::vector<int>{4, 0}).value().shape() == Tensor<double>::shape_type{2, 2}));
  REQUIRE((index_select(table, xt::xarray<int>{{4, 0}, {4, 1}}).value() == expected));
  REQUIRE((index_select(table, Tensor<int>{{4, 0}, {4, 1}}).value() == expected));
  REQUIRE((index_select(table, xt::xarray<std::size_t>{{4, 0}, {4, 1}}).value() == expected));
  REQUIRE((index_select(table, xt::xarray<std::int64_t>{{4, 0}, {4, 1}}).value() == expected));
  const Var<double> flat = index_select(table, std::vector<std::uint8_t>{4, 0, 4, 1});
  REQUIRE((flat.value() == xt::reshape_view(expected, {4, 2})));
  require_gradcheck(tape, {table}, [&] { return index_select(table, xt::xarray<int>{{4, 0}, {4, 1}}); });
  // A padding id with ids of another type: its rows get no gradient.
  tape.clear();
  table.zero_grad();
  tape.backward(sum(index_select(table, std::vector<unsigned>{3, 0, 3}, 0)));
  REQUIRE((table.grad() == Tensor<double>{{0, 0}, {0, 0}, {0, 0}, {2, 2}, {0, 0}}));
  REQUIRE_THROWS_WITH(index_select(table, std::vector<int>{1, -2}), Catch::Contains("index -2 at position 1"));
  REQUIRE_THROWS_WITH(index_select(table, Tensor<int>{0, 5}), Catch::Contains("index 5 at position 1 is out of range for 5 rows"));
  REQUIRE_THROWS_WITH(index_select(table, std::vector<std::uint64_t>{0, std::uint64_t(1) << 63}),
                      Catch::Contains("index_select: index 9223372036854775808 at position 1 is too large"));
}

TEST_CASE("detach: same value, no gradient through it", "[ops][shape][detach]") {
  Tape<double> tape;
  Rng rng(24);
  Var<double> x = rand_param(tape, {3, 4}, rng), W = rand_param(tape, {4, 2}, rng), V = rand_param(tape, {4, 2}, rng);
  // W reaches the loss through h and through detach(h); V through detach only.
  Var<double> h = tanh(matmul(x, W));
  Var<double> d = detach(h);
  const Tensor<double> h_value = h.value();
  REQUIRE((d.value() == h_value));
  REQUIRE_FALSE(d.requires_grad());
  tape.backward(sum(h * d + detach(matmul(x, V)) * h));
  const Tensor<double> gW = W.grad(), gx = x.grad();
  REQUIRE_FALSE(V.has_grad());  // only reached through detach
  W.zero_grad();
  x.zero_grad();
  tape.clear();
  // The same expression with the detached values as constants: same gradients...
  const Tensor<double> v_value = matmul(x, V).value();
  auto g = [&] { return sum(tanh(matmul(x, W)) * tape.constant(h_value) + tape.constant(v_value) * tanh(matmul(x, W))); };
  tape.backward(g());
  REQUIRE(xt::allclose(W.grad(), gW, 1e-14, 0));
  REQUIRE(xt::allclose(x.grad(), gx, 1e-14, 0));
  // ... and those are the true ones of that expression.
  require_gradcheck(tape, {x, W}, g);
}

TEST_CASE("concat and stack of a brace list take T from the Vars", "[ops][shape]") {
  Tape<float> tape;
  Var<float> h = tape.parameter(Tensor<float>{{1, 2}, {3, 4}}), ctx = tape.parameter(Tensor<float>{{5, 7}, {6, 8}});
  CHECK((concat({h, ctx}, 1).value() == Tensor<float>{{1, 2, 5, 7}, {3, 4, 6, 8}}));
  CHECK((concat({h, ctx}, 1).value() == concat(std::vector<Var<float>>{h, ctx}, 1).value()));
  Var<float> g = tape.parameter(Tensor<float>{{10, 20}, {30, 40}});
  CHECK((stack({h, g}, 0).value() == stack(std::vector<Var<float>>{h, g}, 0).value()));
  CHECK((stack({h, g}, 2).value() == Tensor<float>{{{1, 10}, {2, 20}}, {{3, 30}, {4, 40}}}));
  tape.backward(sum(concat({h, ctx}, 1) * 2.f));
  CHECK((ctx.grad() == Tensor<float>{{2, 2}, {2, 2}}));
}

// Embedding reads ids of any integer type, in either tensor type or a vector.
#include <catch2/catch.hpp>
#include <xtensor/xview.hpp>

#include <tapegrad/layers/linear.hpp>

using namespace tg;

TEST_CASE("Embedding: ids of type int in an xarray, a Tensor or a vector", "[layers][embedding][ids]") {
  Tape<float> tape;
  Rng rng(1);
  Embedding<float> embedding(tape, 4, 3, rng, /*padding_id=*/0);
  const Tensor<float> expected = embedding(Tensor<std::int64_t>{{3, 1}, {0, 3}}).value();
  REQUIRE((embedding(xt::xarray<int>{{3, 1}, {0, 3}}).value() == expected));
  REQUIRE((embedding(Tensor<int>{{3, 1}, {0, 3}}).value() == expected));
  REQUIRE((embedding.forward(xt::xarray<std::size_t>{{3, 1}, {0, 3}}).value() == expected));
  REQUIRE((embedding(std::vector<int>{3, 1, 0, 3}).value() == xt::reshape_view(expected, {4, 3})));
  // The padding row still gets no gradient.
  tape.backward(sum(embedding(xt::xarray<int>{{3, 1}, {0, 3}})));
  REQUIRE((xt::view(embedding.weight.grad(), 0) == Tensor<float>{0, 0, 0}));
  REQUIRE((xt::view(embedding.weight.grad(), 3) == Tensor<float>{2, 2, 2}));
  REQUIRE_THROWS_WITH(embedding(xt::xarray<int>{4}), Catch::Contains("index 4 at position 0 is out of range for 4 rows"));
}

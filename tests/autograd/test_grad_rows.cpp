// The rows of a table's gradient that index_select's backward reached
// (Var::grad_rows), which data-parallel training sends instead of the table.
#include <utility>

#include "check.hpp"

using namespace tg;
using tg::test::rand_param;

namespace {

std::vector<std::size_t> rows_of(const Var<double>& table) {
  const GradRows* r = table.grad_rows();
  return r ? r->list : std::vector<std::size_t>{999};
}

}  // namespace

TEST_CASE("grad_rows: the rows index_select reached, cleared by zero_grad", "[ops][shape][rows]") {
  Tape<double> tape;
  Rng rng(5);
  Var<double> table = rand_param(tape, {6, 3}, rng);
  REQUIRE(table.grad_rows() == nullptr);  // no gradient yet
  const xt::xarray<std::int64_t> ids = {{4, 1}, {4, 0}};
  tape.backward(sum(index_select(table, ids, /*no_grad_index=*/0)));
  CHECK(rows_of(table) == std::vector<std::size_t>{4, 1});  // not the padding row 0
  const GradRows& r = *table.grad_rows();
  CHECK(std::vector<int>(r.mask.begin(), r.mask.end()) == std::vector<int>{0, 1, 0, 0, 1, 0});
  // The gradient is still the dense table's (read without the right to write).
  const Tensor<double>& g = std::as_const(table).grad();
  CHECK(g(4, 2) == 2.0);
  CHECK(g(1, 0) == 1.0);
  CHECK(g(0, 0) == 0.0);
  // A second backward adds rows.
  tape.clear();
  tape.backward(sum(index_select(table, xt::xarray<std::int64_t>{2, 4})));
  CHECK(rows_of(table) == std::vector<std::size_t>{4, 1, 2});
  CHECK(std::as_const(table).grad()(4, 0) == 3.0);
  // zero_grad clears them: the next backward starts anew.
  table.zero_grad();
  CHECK(table.grad_rows() == nullptr);
  tape.clear();
  tape.backward(sum(index_select(table, xt::xarray<std::int64_t>{5, 0}, 0)));
  CHECK(rows_of(table) == std::vector<std::size_t>{5});
  CHECK(std::vector<int>(r.mask.begin(), r.mask.end()) == std::vector<int>{0, 0, 0, 0, 0, 1});
  // Only padding: a gradient (of zeros) and no row.
  table.zero_grad();
  tape.clear();
  tape.backward(sum(index_select(table, xt::xarray<std::int64_t>{0, 0}, 0)));
  CHECK(table.has_grad());
  CHECK(rows_of(table).empty());
}

TEST_CASE("grad_rows: any other contribution makes the gradient dense", "[ops][shape][rows]") {
  Tape<double> tape;
  Rng rng(6);
  Var<double> table = rand_param(tape, {5, 2}, rng);
  Var<double> w = rand_param(tape, {2, 2}, rng);
  const xt::xarray<std::int64_t> ids = {3, 1};
  // The table also enters a product (tied weights), before or after the rows on the tape.
  tape.backward(sum(index_select(table, ids)) + sum(matmul(table, w)));
  CHECK(table.grad_rows() == nullptr);
  table.zero_grad();
  tape.clear();
  tape.backward(sum(matmul(table, w)) + sum(index_select(table, ids)));
  CHECK(table.grad_rows() == nullptr);
  // An elementwise op, and a later backward of rows alone does not undo it.
  table.zero_grad();
  tape.clear();
  tape.backward(sum(square(table)));
  tape.clear();
  tape.backward(sum(index_select(table, ids)));
  CHECK(table.grad_rows() == nullptr);
  // After zero_grad, rows alone again.
  table.zero_grad();
  tape.clear();
  tape.backward(sum(index_select(table, ids)));
  CHECK(rows_of(table) == std::vector<std::size_t>{3, 1});
  // The writable gradient (non-const Var::grad) may be written anywhere.
  table.grad() *= 0.5;
  CHECK(table.grad_rows() == nullptr);
  table.zero_grad();
  tape.clear();
  tape.backward(sum(index_select(table, ids)));
  CHECK(rows_of(table) == std::vector<std::size_t>{3, 1});
  // Rows picked from a computed value are not bookkept; the table's gradient
  // came through the product: dense.
  table.zero_grad();
  tape.clear();
  Var<double> scaled = table * 2.0;
  tape.backward(sum(index_select(scaled, ids)));
  CHECK(scaled.node()->grad_rows == nullptr);
  CHECK(table.grad_rows() == nullptr);
}

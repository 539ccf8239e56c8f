// init::orthogonal: orthogonal blocks in both types, seeds, the sign
// convention of its QR and the Haar distribution that convention gives.
// RecurrentInit: the Torch init draws as PyTorch does, with no forget bias.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <optional>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <tapegrad/layers/init.hpp>
#include <tapegrad/layers/recurrent.hpp>

using namespace tg;

namespace {

// Largest |(B B^T)_ij - gain^2 delta_ij| over the (rows, rows) blocks B of w.
template <class T>
double block_orthogonality_error(const Tensor<T>& w, double gain) {
  const std::size_t rows = w.shape()[0], cols = w.shape()[1];
  double worst = 0;
  for (std::size_t c0 = 0; c0 < cols; c0 += rows)
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < rows; ++j) {
        double dot = 0;
        for (std::size_t k = c0; k < c0 + rows; ++k) dot += double(w(i, k)) * double(w(j, k));
        worst = std::max(worst, std::abs(dot - (i == j ? gain * gain : 0.0)));
      }
  return worst;
}

template <class T>
void require_orthogonal_blocks(double tolerance) {
  const std::pair<std::size_t, std::size_t> shapes[] = {{1, 1},  {1, 4},  {3, 3},    {6, 18},
                                                        {20, 80}, {50, 50}, {128, 512}};
  for (const auto& [rows, cols] : shapes)
    for (const double gain : {1.0, 0.5}) {
      Rng rng(rows * 1000 + cols);
      const Tensor<T> w = init::orthogonal<T>(rows, cols, rng, T(gain));
      INFO("rows " << rows << ", cols " << cols << ", gain " << gain);
      REQUIRE(to_shape(w.shape()) == Shape{rows, cols});
      REQUIRE(block_orthogonality_error(w, gain) < tolerance * gain * gain);
    }
}

}  // namespace

TEST_CASE("init::orthogonal: every block orthogonal, in double to 1e-12", "[layers][init]") {
  require_orthogonal_blocks<double>(1e-12);
}

TEST_CASE("init::orthogonal: every block orthogonal, in float to 1e-5", "[layers][init]") {
  require_orthogonal_blocks<float>(1e-5);
}

TEST_CASE("init::orthogonal: one seed one matrix, two seeds two", "[layers][init]") {
  Rng a(11), b(11), c(12);
  const Tensor<double> wa = init::orthogonal<double>(8, 32, a);
  const Tensor<double> wb = init::orthogonal<double>(8, 32, b);
  const Tensor<double> wc = init::orthogonal<double>(8, 32, c);
  REQUIRE(wa == wb);
  REQUIRE(xt::amax(xt::abs(wa - wc))() > 0.1);
  // The next draw from the same generator is another matrix.
  REQUIRE(xt::amax(xt::abs(init::orthogonal<double>(8, 32, a) - wa))() > 0.1);
  REQUIRE_THROWS_WITH(init::orthogonal<double>(4, 10, a), Catch::Contains("not a multiple"));
  REQUIRE_THROWS_WITH(init::orthogonal<double>(0, 0, a), Catch::Contains("not a multiple"));
}

TEST_CASE("init::orthogonal: Q of the Gaussian block's QR with diag(R) > 0", "[layers][init]") {
  // Each block is gain * Q where A = QR, A the block's (rows, rows) standard
  // normals drawn column by column: redraw A from the same seed, and
  // R = Q^T A must be upper triangular with a positive diagonal.
  constexpr std::size_t rows = 7, blocks = 3;
  constexpr double gain = 1.5;
  Rng rng(5), again(5);
  const Tensor<double> w = init::orthogonal<double>(rows, rows * blocks, rng, gain);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    std::vector<double> a(rows * rows);  // a[j * rows + i]: A(i, j)
    for (double& v : a) v = normal(again);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < rows; ++j) {
        double r = 0;
        for (std::size_t k = 0; k < rows; ++k) r += w(k, blk * rows + i) * a[j * rows + k];
        r /= gain;
        INFO("block " << blk << ", R(" << i << ", " << j << ") = " << r);
        if (i > j) REQUIRE(std::abs(r) < 1e-12);
        if (i == j) REQUIRE(r > 0);
      }
  }
}

TEST_CASE("init::orthogonal: Haar-distributed (E[Q] = 0, E[Q_ij^2] = 1/n)", "[layers][init]") {
  // LAPACK's Householder QR alone leaves R's diagonal of either sign and Q
  // biased (for n = 3, E[Q] is near diag(-0.5, -0.5, 0.5)); the sign fix
  // removes the bias.
  constexpr std::size_t n = 3, draws = 4000;
  Rng rng(9);
  Tensor<double> sum = zeros<double>(Shape{n, n}), sum_sq = zeros<double>(Shape{n, n});
  for (std::size_t d = 0; d < draws; ++d) {
    const Tensor<double> q = init::orthogonal<double>(n, n, rng);
    sum += q;
    sum_sq += q * q;
  }
  // Each Q_ij has variance 1/n: the mean of `draws` is within 5 sd of 0.
  const double sd_of_mean = std::sqrt(1.0 / n / draws);
  REQUIRE(xt::amax(xt::abs(sum / double(draws)))() < 5 * sd_of_mean);
  REQUIRE(xt::amax(xt::abs(sum_sq / double(draws) - 1.0 / n))() < 0.03);
}

namespace {

struct Moments {
  double min, max, mean, variance;
};

Moments moments(const Tensor<double>& t) {
  Moments m{1e300, -1e300, 0, 0};
  for (double v : t) {
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
    m.mean += v / double(t.size());
  }
  for (double v : t) m.variance += (v - m.mean) * (v - m.mean) / double(t.size() - 1);
  return m;
}

// The first cell's parameters of a one-layer Recurrent, by name.
std::map<std::string, Tensor<double>> first_cell(CellType cell, RecurrentInit init,
                                                 std::optional<double> forget_bias = {}) {
  const auto o = RecurrentOptions(10, 128).cell(cell).init(init).forget_bias(forget_bias);
  Tape<double> tape;
  Rng rng(21);
  Recurrent<double> layer(tape, o, rng);
  std::map<std::string, Tensor<double>> out;
  // "l0.fwd.weight_ih" -> "weight_ih"
  for (const auto& p : layer.named_parameters()) out[p.name.substr(7)] = p.var.value();
  return out;
}

}  // namespace

TEST_CASE("RecurrentInit::Torch: PyTorch's draws, no LSTM forget bias", "[layers][init]") {
  const double k = 1 / std::sqrt(128.0);  // U(-k, k), k = 1/sqrt(H)
  for (CellType cell : {CellType::RNN, CellType::LSTM, CellType::GRU}) {
    INFO("cell " << int(cell));
    auto p = first_cell(cell, RecurrentInit::Torch);
    for (const char* w : {"weight_ih", "weight_hh"}) {
      const Moments m = moments(p.at(w));
      REQUIRE(m.min >= -k);
      REQUIRE(m.max <= k);
      REQUIRE(std::abs(m.variance / (k * k / 3) - 1) < 0.1);  // U(-k, k): k^2 / 3
    }
    std::vector<std::string> biases = {"bias"};
    if (cell == CellType::GRU) biases = {"bias_ih", "bias_hh"};
    for (const auto& b : biases) {
      INFO(b);
      const Moments m = moments(p.at(b));
      REQUIRE(std::abs(m.mean) < 4 * std::sqrt(2 * k * k / 3 / double(p.at(b).size())));
      if (cell == CellType::GRU) {
        // bias_ih and bias_hh, each U(-k, k), as PyTorch's.
        REQUIRE(m.min >= -k);
        REQUIRE(m.max <= k);
        REQUIRE(std::abs(m.variance / (k * k / 3) - 1) < 0.25);
      } else {
        // One bias for PyTorch's b_ih + b_hh: the sum of two U(-k, k), on
        // (-2k, 2k) with variance 2k^2 / 3.
        REQUIRE(m.min >= -2 * k);
        REQUIRE(m.max <= 2 * k);
        REQUIRE(std::max(-m.min, m.max) > k);
        REQUIRE(std::abs(m.variance / (2 * k * k / 3) - 1) < 0.25);
      }
    }
    if (cell == CellType::LSTM) {
      // The forget gate's block (H..2H) is drawn like the others, not set to 1.
      const Tensor<double> forget = xt::view(p.at("bias"), xt::range(128, 256));
      const Moments f = moments(forget);
      REQUIRE(f.max <= 2 * k);
      REQUIRE(std::abs(f.mean) < 4 * std::sqrt(2 * k * k / 3 / 128));
    }
  }
}

TEST_CASE("LSTM forget bias: 1 by default with Glorot, as set with either init",
          "[layers][init]") {
  const auto glorot = first_cell(CellType::LSTM, RecurrentInit::GlorotOrthogonal).at("bias");
  for (std::size_t j = 0; j < 512; ++j) REQUIRE(glorot(j) == (j >= 128 && j < 256 ? 1.0 : 0.0));
  const auto glorot_2 = first_cell(CellType::LSTM, RecurrentInit::GlorotOrthogonal, 2.0).at("bias");
  const auto torch_unset = first_cell(CellType::LSTM, RecurrentInit::Torch).at("bias");
  const auto torch_2 = first_cell(CellType::LSTM, RecurrentInit::Torch, 2.0).at("bias");
  for (std::size_t j = 0; j < 512; ++j) {
    const bool forget = j >= 128 && j < 256;
    REQUIRE(glorot_2(j) == (forget ? 2.0 : 0.0));
    REQUIRE(torch_2(j) == (forget ? 2.0 : torch_unset(j)));  // the other gates keep their draw
  }
}

// The ops an attention layer over RNN outputs needs, together: a tanh RNN
// over a padded batch, dot-product attention of a query over its outputs
// with a padding mask (bmm, unsqueeze/squeeze, masked_softmax), a GELU
// projection and a layer norm. One model, templated on T, checked in float64
// (full Jacobian and projection) and run in float.
#include "check.hpp"

using namespace tg;
using tg::test::rand_param;

namespace {

template <class T>
struct AttentionOverRnn {
  Var<T> U, W, q, Wo, gamma, beta;  // (I, H) (H, H) (H) (H, H) (H) (H)

  // x (steps, B, I); mask (B, steps) 1 on real steps. Returns (B, H).
  Var<T> forward(const Var<T>& x, const Tensor<T>& mask) const {
    const std::size_t steps = x.shape()[0], B = x.shape()[1], H = W.shape()[0];
    Var<T> h = x.tape().constant(tg::zeros<T>(Shape{B, H}));
    std::vector<Var<T>> outs;
    for (std::size_t t = 0; t < steps; ++t) outs.push_back(h = tanh(matmul(select(x, t), U) + matmul(h, W)));
    Var<T> hs = stack(outs, 1);                                          // (B, steps, H)
    Var<T> query = reshape(q, Shape{1, H}) + outs[0] * 0.5;              // (B, H)
    Var<T> scores = squeeze(bmm(unsqueeze(query, 1), hs, false, true), 1)  // (B, steps)
                    / std::sqrt(double(H));
    Var<T> alpha = masked_softmax(scores, mask);                         // (B, steps)
    Var<T> context = squeeze(bmm(unsqueeze(alpha, 1), hs), 1);           // (B, H)
    return layer_norm(gelu(matmul(context, Wo), GeluApprox::tanh) + context, gamma, beta);
  }
};

template <class T>
AttentionOverRnn<T> make_model(Tape<T>& tape, std::size_t I, std::size_t H, Rng& rng) {
  auto p = [&](const Shape& s, double lo, double hi) { return tape.parameter(uniform<T>(s, T(lo), T(hi), rng)); };
  return {p({I, H}, -0.8, 0.8), p({H, H}, -0.5, 0.5), p({H}, -1, 1), p({H, H}, -0.8, 0.8), p({H}, 0.5, 1.5),
          p({H}, -0.5, 0.5)};
}

}  // namespace

TEST_CASE("attention over RNN outputs: float64 gradcheck of every parameter", "[ops][attention]") {
  for (GradcheckMode mode : {GradcheckMode::projection, GradcheckMode::jacobian}) {
    Tape<double> tape;
    Rng rng(7);
    AttentionOverRnn<double> m = make_model(tape, 3, 4, rng);
    Var<double> x = rand_param(tape, {5, 3, 3}, rng);  // 5 steps, batch 3
    Tensor<double> mask = tg::zeros<double>(Shape{3, 5});
    const std::size_t lengths[3] = {5, 3, 1};
    for (std::size_t b = 0; b < 3; ++b)
      for (std::size_t t = 0; t < lengths[b]; ++t) mask(b, t) = 1;
    GradcheckOptions opt;
    opt.mode = mode;
    const GradcheckResult r =
        gradcheck(tape, {m.U, m.W, m.q, m.Wo, m.gamma, m.beta, x}, [&] { return m.forward(x, mask); }, opt);
    INFO(r.report());
    REQUIRE(r.ok);
    REQUIRE(r.outputs == 12);
    // Padded steps of the batch's third row change nothing: their inputs get 0.
    tape.clear();
    for (Var<double>* v : {&m.U, &m.W, &m.q, &m.Wo, &m.gamma, &m.beta, &x}) v->zero_grad();
    tape.backward(sum(select(m.forward(x, mask), 2)));
    for (std::size_t t = 1; t < 5; ++t)
      for (std::size_t i = 0; i < 3; ++i) REQUIRE(x.grad()(t, 2, i) == 0.0);
  }
}

TEST_CASE("attention over RNN outputs: the same model in float", "[ops][attention]") {
  Tape<float> tf;
  Tape<double> td;
  Rng r1(8), r2(8);
  AttentionOverRnn<float> mf = make_model(tf, 3, 4, r1);
  AttentionOverRnn<double> md = make_model(td, 3, 4, r2);
  Rng rx(9);
  const Tensor<double> xv = uniform<double>(Shape{5, 2, 3}, -1, 1, rx);
  const Tensor<double> mask{{1.0, 1.0, 1.0, 0.0, 0.0}, {1.0, 1.0, 1.0, 1.0, 1.0}};
  Var<float> yf = mf.forward(tf.constant(xt::cast<float>(xv)), xt::cast<float>(mask));
  Var<double> yd = md.forward(td.constant(xv), mask);
  REQUIRE(xt::allclose(xt::cast<double>(yf.value()), yd.value(), 1e-4, 1e-5));
  tf.backward(sum(square(yf)));
  td.backward(sum(square(yd)));
  REQUIRE(xt::allclose(xt::cast<double>(mf.U.grad()), md.U.grad(), 1e-3, 1e-4));
}

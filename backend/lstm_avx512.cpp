// The float LSTM rows on AVX-512: this file is compiled with AVX-512 flags
// (backend/CMakeLists.txt) and called only after the run-time check. As in
// activation_avx512.cpp, everything it defines is ours (tg::lstm::avx512),
// internal, or an xsimd template for xsimd::avx512bw, so no inline function
// shared with the rest of the program is emitted here with AVX-512
// instructions (tests/backend/avx512_symbols.sh).
#include <immintrin.h>

#include <tapegrad/backend/lstm_rows.hpp>

namespace tg::lstm::avx512 {
namespace {

using V = __m512;

V splat(float x) { return _mm512_set1_ps(x); }

// exp(t) = s (1 + m) for t <= 0: s = 2^n and m = exp(r) - 1 with
// r = t - n ln2 in [-ln2/2, ln2/2]. Keeping m apart gives expm1 without
// cancellation, which tanh needs near 0.
struct Exp {
  V s, m;
};
inline Exp exp_split(V t) {
  // exp(-104) rounds to 0 in float; the clamp keeps -inf out of the
  // reduction, and max returns its second operand, so NaN passes through.
  t = _mm512_max_ps(splat(-104.f), t);
  const V n = _mm512_roundscale_ps(_mm512_mul_ps(t, splat(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln2 in two parts; the fused multiply-add keeps n ln2_hi exact.
  V r = _mm512_fnmadd_ps(n, splat(0.693147182464599609375f), t);
  r = _mm512_fnmadd_ps(n, splat(-1.904654323148236e-09f), r);
  // m = r + r^2 q(r): q fitted to (exp(r) - 1 - r) / r^2 at the Chebyshev
  // nodes of the interval (m within 0.4 ulp; Taylor needs two terms more).
  V q = splat(0.0013926175888627768f);
  q = _mm512_fmadd_ps(q, r, splat(0.008363173343241215f));
  q = _mm512_fmadd_ps(q, r, splat(0.041666556149721146f));
  q = _mm512_fmadd_ps(q, r, splat(0.16666577756404877f));
  q = _mm512_fmadd_ps(q, r, splat(0.5f));
  return {_mm512_scalef_ps(splat(1.f), n), _mm512_fmadd_ps(_mm512_mul_ps(r, r), q, r)};
}

// num / (b + a) for b + a in [1, 2], with num - b q exact for q near the
// quotient (Sterbenz): vdivps is slow, so the 14-bit reciprocal estimate and
// one Newton step on the quotient, whose residual num - (b + a) q is taken
// with the unrounded denominator (its rounding alone would cost 1 ulp).
inline V divide(V num, V b, V a) {
  const V r = _mm512_rcp14_ps(_mm512_add_ps(b, a));
  const V q = _mm512_mul_ps(num, r);
  return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(a, q, _mm512_fnmadd_ps(b, q, num)), q);
}

// With e = exp(-|x|) in (0, 1]: 1 / (1 + e) for x >= 0, e / (1 + e) below;
// nothing overflows.
inline V sigmoid(V x) {
  const Exp x_exp = exp_split(_mm512_or_ps(x, splat(-0.f)));  // -|x|
  const V e = _mm512_fmadd_ps(x_exp.s, x_exp.m, x_exp.s);
  const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return divide(_mm512_mask_blend_ps(negative, splat(1.f), e), splat(1.f), e);
}

// tanh|x| = (1 - e) / (1 + e) with e = exp(-2|x|), the numerator taken as
// -expm1(-2|x|) (no cancellation near 0), then x's sign.
inline V tanh(V x) {
  const Exp x_exp = exp_split(_mm512_mul_ps(_mm512_or_ps(x, splat(-0.f)), splat(2.f)));
  const V e = _mm512_fmadd_ps(x_exp.s, x_exp.m, x_exp.s);
  const V one_minus_e = _mm512_fnmadd_ps(x_exp.s, x_exp.m, _mm512_sub_ps(splat(1.f), x_exp.s));
  const V y = divide(one_minus_e, splat(1.f), e);
  return _mm512_or_ps(y, _mm512_and_ps(x, splat(-0.f)));
}

// 16 columns of one row: whole vectors, or a masked tail. Masked memory
// operations only in the tail: a masked store into lines not yet in the
// cache ran 3x slower than the whole loop of plain ones.
template <bool GTanh, bool HTanh, bool Tail, bool Save>
inline void columns(const Forward<float>& f, std::size_t b, std::size_t j, __mmask16 k) {
  const std::size_t H = f.H;
  const auto load = [k](const float* p) { return Tail ? _mm512_maskz_loadu_ps(k, p) : _mm512_loadu_ps(p); };
  const auto store = [k](float* p, V v) {
    if (Tail) _mm512_mask_storeu_ps(p, k, v);
    else _mm512_storeu_ps(p, v);
  };
  const float* z = f.gates + b * 4 * H + j;
  const V i = sigmoid(load(z)), fg = sigmoid(load(z + H)), o = sigmoid(load(z + 3 * H));
  const V g = GTanh ? tanh(load(z + 2 * H)) : load(z + 2 * H);
  const V c = _mm512_fmadd_ps(fg, load(f.c_prev + b * H + j), _mm512_mul_ps(i, g));
  const V hc = HTanh ? tanh(c) : c;
  if (Save) {  // kept for the backward
    float* a = f.act + b * 4 * H + j;
    store(a, i);
    store(a + H, fg);
    store(a + 2 * H, g);
    store(a + 3 * H, o);
    store(f.hc + b * H + j, hc);
  }
  store(f.c + b * H + j, c);
  store(f.h + b * H + j, _mm512_mul_ps(o, hc));
}

template <bool GTanh, bool HTanh, bool Save>
void forward_rows(const Forward<float>& f) {
  const std::size_t H = f.H;
  for (std::size_t b = 0; b < f.B; ++b) {
    std::size_t j = 0;
    for (; j + 16 <= H; j += 16) columns<GTanh, HTanh, false, Save>(f, b, j, 0xFFFF);
    if (j < H) columns<GTanh, HTanh, true, Save>(f, b, j, __mmask16((1u << (H - j)) - 1));
  }
}

template <bool Save>
void forward_saving(const Forward<float>& f) {
  if (f.g_tanh) {
    if (f.h_tanh) forward_rows<true, true, Save>(f);
    else forward_rows<true, false, Save>(f);
  } else {
    if (f.h_tanh) forward_rows<false, true, Save>(f);
    else forward_rows<false, false, Save>(f);
  }
}

}  // namespace

void forward(const Forward<float>& f) {
  if (f.act) forward_saving<true>(f);
  else forward_saving<false>(f);
}

void backward(const Backward<float>& r, bool add_g, bool add_c) {
  rows::backward<xsimd::avx512bw>(r, add_g, add_c);
}

}  // namespace tg::lstm::avx512

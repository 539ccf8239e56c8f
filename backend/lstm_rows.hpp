// The LSTM backward rows for one xsimd architecture. Included by lstm.cpp
// (the compiled-for architecture) and lstm_avx512.cpp (built with AVX-512
// flags), each instantiating it with its own Arch, so the two never share a
// symbol. Internal: users call tg::lstm.
#pragma once

#include <cstddef>

#include <xsimd/xsimd.hpp>

#include <tapegrad/backend/lstm.hpp>

namespace tg::lstm::rows {

template <class Arch, class T, bool AddG, bool AddC>
void backward(const Backward<T>& r) {
  const std::size_t H = r.H;
  const T* zero = r.spare;          // H zeros, read only
  T* scratch_g = r.spare + H;       // 4H, written only
  T* scratch_c = r.spare + 5 * H;   // H, written only
  for (std::size_t b = 0; b < r.B; ++b) {
    const T* __restrict a = r.act + b * 4 * H;
    const T* __restrict hcb = r.hc + b * H;
    const T* __restrict cp = r.c_prev + b * H;
    const T* __restrict dh = r.dh ? r.dh + b * H : zero;
    const T* __restrict dco = r.dc_out ? r.dc_out + b * H : zero;
    T* __restrict dg = r.dgates ? r.dgates + b * 4 * H : scratch_g;
    T* __restrict dcp = r.dc_prev ? r.dc_prev + b * H : scratch_c;
    const T gt = r.g_tanh, ht = r.h_tanh;
    // Explicit vectors: GCC 12 leaves this loop scalar ("no vectype").
    using V = xsimd::batch<T, Arch>;
    const V one(T(1));
    std::size_t j = 0;
    for (; j + V::size <= H; j += V::size) {
      const V i = V::load_unaligned(a + j), f = V::load_unaligned(a + H + j);
      const V g = V::load_unaligned(a + 2 * H + j), o = V::load_unaligned(a + 3 * H + j);
      const V hcj = V::load_unaligned(hcb + j), dhj = V::load_unaligned(dh + j);
      const V dc = V::load_unaligned(dco + j) + dhj * o * (one - V(ht) * hcj * hcj);
      V di = dc * g * i * (one - i), df = dc * V::load_unaligned(cp + j) * f * (one - f);
      V dz = dc * i * (one - V(gt) * g * g), dout = dhj * hcj * o * (one - o);
      V dcpj = dc * f;
      if (AddG) {
        di += V::load_unaligned(dg + j);
        df += V::load_unaligned(dg + H + j);
        dz += V::load_unaligned(dg + 2 * H + j);
        dout += V::load_unaligned(dg + 3 * H + j);
      }
      if (AddC) dcpj += V::load_unaligned(dcp + j);
      di.store_unaligned(dg + j);
      df.store_unaligned(dg + H + j);
      dz.store_unaligned(dg + 2 * H + j);
      dout.store_unaligned(dg + 3 * H + j);
      dcpj.store_unaligned(dcp + j);
    }
    for (; j < H; ++j) {
      const T i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j], hcj = hcb[j];
      const T dc = dco[j] + dh[j] * o * (T(1) - ht * hcj * hcj);
      const T di = dc * g * i * (T(1) - i), df = dc * cp[j] * f * (T(1) - f);
      const T dz = dc * i * (T(1) - gt * g * g), dout = dh[j] * hcj * o * (T(1) - o);
      dg[j] = (AddG ? dg[j] : T(0)) + di;
      dg[H + j] = (AddG ? dg[H + j] : T(0)) + df;
      dg[2 * H + j] = (AddG ? dg[2 * H + j] : T(0)) + dz;
      dg[3 * H + j] = (AddG ? dg[3 * H + j] : T(0)) + dout;
      dcp[j] = (AddC ? dcp[j] : T(0)) + dc * f;
    }
  }
}

// The four add/write variants, chosen once per call.
template <class Arch, class T>
void backward(const Backward<T>& r, bool add_g, bool add_c) {
  if (add_g) {
    if (add_c) backward<Arch, T, true, true>(r);
    else backward<Arch, T, true, false>(r);
  } else {
    if (add_c) backward<Arch, T, false, true>(r);
    else backward<Arch, T, false, false>(r);
  }
}

}  // namespace tg::lstm::rows

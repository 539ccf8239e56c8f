// The element-wise work of an LSTM cell over B rows, behind tg::lstm_cell:
// the forward from the gate pre-activations, the backward to them.
//
// Float runs one fused pass on 512-bit vectors where the CPU has AVX-512
// (sigmoid and tanh inlined, their divisions done by a reciprocal estimate
// and one Newton step: within 2 ulp of the exact values, tests/backend
// test_lstm_rows); double, and float elsewhere, run the activation rows and
// then the cell arithmetic on the vectors the library was compiled for.
#pragma once

#include <cstddef>

namespace tg::lstm {

// gates (B, 4H) = [i f z o] pre-activations and c_prev (B, H) in; out:
// act (B, 4H) the activated gates [i f g o] and, each (B, H),
//   c = f c_prev + i g,  hc = h_act(c),  h = o hc.
// act and hc, kept for the backward, may both be null (no backward will run).
// g and h_act are tanh (true) or the identity (false).
template <class T>
struct Forward {
  const T* gates;
  const T* c_prev;
  T* act;
  T* c;
  T* hc;
  T* h;
  std::size_t B, H;
  bool g_tanh, h_tanh;
};

// The buffers of one backward; null gradients are replaced by the zero row
// (inputs) or the scratch rows (outputs) of `spare` (6H long).
template <class T>
struct Backward {
  const T* act;     // (B, 4H) activated gates
  const T* hc;      // (B, H) h_act(c)
  const T* c_prev;  // (B, H)
  const T* dh;      // (B, H) or null
  const T* dc_out;  // (B, H) or null
  T* dgates;        // (B, 4H) or null
  T* dc_prev;       // (B, H) or null
  T* spare;
  std::size_t B, H;
  T g_tanh, h_tanh;  // 1 for tanh, 0 for the identity
};

template <class T>
void forward(const Forward<T>& f);

// add_g / add_c: add into dgates / dc_prev (an earlier contribution is
// there) or write them (fresh buffers, not zero-filled).
template <class T>
void backward(const Backward<T>& r, bool add_g, bool add_c);

}  // namespace tg::lstm

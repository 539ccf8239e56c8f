#include <tapegrad/backend/lstm.hpp>

#include <algorithm>
#include <vector>

#include <tapegrad/backend/activation.hpp>
#include <tapegrad/backend/cpu.hpp>
#include <tapegrad/backend/lstm_rows.hpp>

namespace tg::lstm {
namespace avx512 {
void forward(const Forward<float>& f);
void backward(const Backward<float>& r, bool add_g, bool add_c);
}  // namespace avx512

namespace {
using Compiled = xsimd::default_arch;

// Row by row: the activation rows, then the cell arithmetic.
template <class T>
void forward_rows(const Forward<T>& f) {
  const std::size_t H = f.H;
  std::vector<T> scratch(f.act ? 0 : 5 * H);  // one row's act and hc when not kept
  for (std::size_t b = 0; b < f.B; ++b) {
    const T* z = f.gates + b * 4 * H;
    T* a = f.act ? f.act + b * 4 * H : scratch.data();
    activation::sigmoid(z, a, 2 * H);                  // i, f
    if (f.g_tanh) activation::tanh(z + 2 * H, a + 2 * H, H);
    else std::copy_n(z + 2 * H, H, a + 2 * H);
    activation::sigmoid(z + 3 * H, a + 3 * H, H);      // o
    const T* cp = f.c_prev + b * H;
    T* cb = f.c + b * H;
    for (std::size_t j = 0; j < H; ++j) cb[j] = a[H + j] * cp[j] + a[j] * a[2 * H + j];
    T* hcb = f.hc ? f.hc + b * H : scratch.data() + 4 * H;
    if (f.h_tanh) activation::tanh(cb, hcb, H);
    else std::copy_n(cb, H, hcb);
    T* hb = f.h + b * H;
    for (std::size_t j = 0; j < H; ++j) hb[j] = a[3 * H + j] * hcb[j];
  }
}
}  // namespace

template <>
void forward<float>(const Forward<float>& f) {
  if (cpu::avx512()) return avx512::forward(f);
  forward_rows(f);
}
template <>
void forward<double>(const Forward<double>& f) { forward_rows(f); }

template <>
void backward<float>(const Backward<float>& r, bool add_g, bool add_c) {
  if (cpu::avx512()) return avx512::backward(r, add_g, add_c);
  rows::backward<Compiled>(r, add_g, add_c);
}
template <>
void backward<double>(const Backward<double>& r, bool add_g, bool add_c) {
  rows::backward<Compiled>(r, add_g, add_c);
}

}  // namespace tg::lstm

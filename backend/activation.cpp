#include <tapegrad/backend/activation.hpp>

#include <tapegrad/backend/activation_rows.hpp>
#include <tapegrad/backend/cpu.hpp>

namespace tg::activation {
namespace avx512 {
void sigmoid(const float* x, float* y, std::size_t n);
void tanh(const float* x, float* y, std::size_t n);
}  // namespace avx512

namespace {
using Compiled = xsimd::default_arch;
}  // namespace

template <>
void sigmoid<float>(const float* x, float* y, std::size_t n) {
  if (cpu::avx512()) return avx512::sigmoid(x, y, n);
  rows::sigmoid<Compiled>(x, y, n);
}
template <>
void tanh<float>(const float* x, float* y, std::size_t n) {
  if (cpu::avx512()) return avx512::tanh(x, y, n);
  rows::tanh<Compiled>(x, y, n);
}
template <>
void sigmoid<double>(const double* x, double* y, std::size_t n) { rows::sigmoid<Compiled>(x, y, n); }
template <>
void tanh<double>(const double* x, double* y, std::size_t n) { rows::tanh<Compiled>(x, y, n); }

}  // namespace tg::activation

#include <tapegrad/backend/activation.hpp>

#include <tapegrad/backend/activation_rows.hpp>

namespace tg::activation {
namespace avx512 {
void sigmoid(const float* x, float* y, std::size_t n);
void tanh(const float* x, float* y, std::size_t n);
}  // namespace avx512

namespace {
using Compiled = xsimd::default_arch;

// The instruction sets xsimd's avx512bw architecture uses.
bool wide() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return has;
}
}  // namespace

template <>
void sigmoid<float>(const float* x, float* y, std::size_t n) {
  if (wide()) return avx512::sigmoid(x, y, n);
  rows::sigmoid<Compiled>(x, y, n);
}
template <>
void tanh<float>(const float* x, float* y, std::size_t n) {
  if (wide()) return avx512::tanh(x, y, n);
  rows::tanh<Compiled>(x, y, n);
}
template <>
void sigmoid<double>(const double* x, double* y, std::size_t n) { rows::sigmoid<Compiled>(x, y, n); }
template <>
void tanh<double>(const double* x, double* y, std::size_t n) { rows::tanh<Compiled>(x, y, n); }

}  // namespace tg::activation

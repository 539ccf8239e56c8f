// The float rows on AVX-512: this file alone is compiled with AVX-512 flags
// (backend/CMakeLists.txt) and is called only after the run-time check.
// Everything it defines is either ours, in this namespace, or an xsimd
// template instantiated for xsimd::avx512bw, so no inline function shared
// with the rest of the program is emitted here with AVX-512 instructions
// (tests/backend checks the object's symbols).
#include <tapegrad/backend/activation_rows.hpp>

namespace tg::activation::avx512 {

void sigmoid(const float* x, float* y, std::size_t n) { rows::sigmoid<xsimd::avx512bw>(x, y, n); }
void tanh(const float* x, float* y, std::size_t n) { rows::tanh<xsimd::avx512bw>(x, y, n); }

}  // namespace tg::activation::avx512

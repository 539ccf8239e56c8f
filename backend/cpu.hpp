// Run-time CPU checks for the AVX-512 files: the library is compiled for
// AVX2, and code built with AVX-512 flags runs only where these say yes.
#pragma once

namespace tg::cpu {

// AVX-512 F, CD, DQ, BW and VL: what xsimd's avx512bw architecture and
// -march=x86-64-v4 emit. Checked once, then cached.
bool avx512();

}  // namespace tg::cpu

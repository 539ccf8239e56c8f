#include <tapegrad/backend/sgemm_avx512.hpp>

#include <immintrin.h>

// Only <immintrin.h> is included here on purpose: an inline function from a
// shared header, compiled in this file with AVX-512 enabled, could be the copy
// the linker keeps for the whole program.
#define TG_AVX512 __attribute__((target("avx512f")))

namespace tg::blas::avx512 {
namespace {

// The micro-tile: kRows rows of C by kVecs 16-float vectors (64 columns),
// 24 accumulators in registers. kDepth rows of op(B) are one pass: a
// (256 x 64) panel of B is 64 KiB and stays in L2 while the rows of A stream.
constexpr int kRows = 6;
constexpr int kVecs = 4;
constexpr int kCols = 16 * kVecs;
constexpr int kDepth = 256;
// Rows of A per block (a multiple of kRows): 192 x 256 floats, 192 KiB, held
// in L2 while every column panel passes.
constexpr int kBlockRows = 192;

// Where op(A)[i][p] lives: a[i * row + p * depth].
struct Lhs {
  const float* a;
  long row;
  long depth;
};

struct Tile {
  float* c;
  long ldc;
  __mmask16 last;  // the columns the tile's last vector covers
  float alpha;
  float beta;
  bool first_pass;  // apply beta (else accumulate into C)
};

// C tile (R x V vectors) from `depth` rows of op(B) (b, row stride ldb).
// The unroll pragmas keep `acc` in registers: without them GCC 12 stores the
// accumulators to the stack on every step of p (measured 2.6x slower).
template <int R, int V>
TG_AVX512 void micro(int depth, Lhs lhs, const float* b, long ldb, const Tile& t) {
  __m512 acc[R][V];
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
  const float* a = lhs.a;
  for (int p = 0; p < depth; ++p, a += lhs.depth, b += ldb) {
    __m512 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V - 1; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
    bv[V - 1] = _mm512_maskz_loadu_ps(t.last, b + 16 * (V - 1));
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i * lhs.row]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
  const __m512 alpha = _mm512_set1_ps(t.alpha);
  const __m512 beta = _mm512_set1_ps(t.beta);
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    float* c = t.c + i * t.ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __mmask16 m = v == V - 1 ? t.last : __mmask16(0xFFFF);
      __m512 r = _mm512_mul_ps(acc[i][v], alpha);
      if (!t.first_pass)
        r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, c + 16 * v));
      else if (t.beta != 0.0f)
        r = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m, c + 16 * v), r);
      _mm512_mask_storeu_ps(c + 16 * v, m, r);
    }
  }
}

using Micro = void (*)(int, Lhs, const float*, long, const Tile&);

template <int R>
constexpr Micro pick(int vecs) {
  return vecs == 1 ? micro<R, 1> : vecs == 2 ? micro<R, 2> : vecs == 3 ? micro<R, 3> : micro<R, 4>;
}

Micro pick(int rows, int vecs) {
  switch (rows) {
    case 1: return pick<1>(vecs);
    case 2: return pick<2>(vecs);
    case 3: return pick<3>(vecs);
    case 4: return pick<4>(vecs);
    case 5: return pick<5>(vecs);
    default: return pick<6>(vecs);
  }
}

// 8x8 transpose of floats: dst[c][r] = src[r][c].
TG_AVX512 void transpose8(const float* src, long lds, float* dst, long ldd) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// panel[p][j] = op(B)[p0 + p][j0 + j] for op(B) = B^T, B (n x k) row-major:
// the transposition OpenBLAS would do in its own packing.
TG_AVX512 void pack_transposed(const float* b, long k, int j0, int cols, int p0, int depth,
                               float* panel) {
  const float* src = b + j0 * k + p0;
  int j = 0;
  for (; j + 8 <= cols; j += 8) {
    int p = 0;
    for (; p + 8 <= depth; p += 8) transpose8(src + j * k + p, k, panel + p * kCols + j, kCols);
    for (; p < depth; ++p)
      for (int jj = j; jj < j + 8; ++jj) panel[p * kCols + jj] = src[jj * k + p];
  }
  for (; j < cols; ++j)
    for (int p = 0; p < depth; ++p) panel[p * kCols + j] = src[j * k + p];
}

TG_AVX512 void scale(int m, int n, float beta, float* c) {
  for (long i = 0; i < long(m) * n; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
}

// Rows [0, m) of the product, A's rows at `a` with strides (row, depth_stride).
TG_AVX512 void block_product(bool trans_b, int m, int n, int k, const float* a, long row,
                             long depth_stride, const float* b, float alpha, float beta, float* c,
                             float* panel) {
  for (int j0 = 0; j0 < n; j0 += kCols) {
    const int cols = n - j0 < kCols ? n - j0 : kCols;
    const int vecs = (cols + 15) / 16;
    const __mmask16 last = cols % 16 ? __mmask16((1u << (cols % 16)) - 1) : __mmask16(0xFFFF);
    for (int p0 = 0; p0 < k; p0 += kDepth) {
      const int depth = k - p0 < kDepth ? k - p0 : kDepth;
      const float* bp = b + long(p0) * n + j0;
      long ldb = n;
      if (trans_b) {
        pack_transposed(b, k, j0, cols, p0, depth, panel);
        bp = panel;
        ldb = kCols;
      }
      Tile tile{c + j0, n, last, alpha, beta, p0 == 0};
      for (int i0 = 0; i0 < m; i0 += kRows) {
        const int rows = m - i0 < kRows ? m - i0 : kRows;
        tile.c = c + long(i0) * n + j0;
        const Lhs lhs{a + i0 * row + p0 * depth_stride, row, depth_stride};
        pick(rows, vecs)(depth, lhs, bp, ldb, tile);
      }
    }
  }
}

}  // namespace

bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

TG_AVX512 void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                     const float* b, float beta, float* c) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return scale(m, n, beta, c);
  alignas(64) static thread_local float panel[kDepth * kCols];
  const long row = trans_a ? 1 : k, depth_stride = trans_a ? m : 1;
  // Blocks of kBlockRows rows of A: each block stays in L2 while every
  // column panel of B passes over it, instead of all of A streaming from
  // memory once per panel. bench_gemm, one run each: NT 12800x128x512 189 ->
  // 226 GFLOP/s, TN 128x512x12800 196 -> 216; NN 12800x512x128 unchanged (~183).
  for (int b0 = 0; b0 < m; b0 += kBlockRows) {
    const int block = m - b0 < kBlockRows ? m - b0 : kBlockRows;
    block_product(trans_b, block, n, k, a + b0 * row, row, depth_stride, b, alpha, beta,
                  c + long(b0) * n, panel);
  }
}

}  // namespace tg::blas::avx512

#include "backends/cpu/dot_kernel.h"

#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_util.h"

#pragma GCC diagnostic ignored "-Wpsabi"  // V8 never crosses an ABI boundary

namespace pagellm::cpu::internal {
namespace {

// GCC vector extension: 8 floats, lowered to AVX-512/AVX2/SSE by the target_clones below.
typedef float V8 __attribute__((vector_size(32)));
#define PAGELLM_INLINE inline __attribute__((always_inline))

constexpr int64_t kRowsPerTask = 32;  // weight rows widened to f32 per task (L2 resident)

PAGELLM_INLINE V8 Load8(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

PAGELLM_INLINE float Reduce(const V8& v, const float* x, const float* w, int64_t k8, int64_t k) {
  float s = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
  for (int64_t l = k8; l < k; ++l) s += x[l] * w[l];
  return s;
}

// MR x rows by NR w rows; each (r, c) accumulates exactly like every other tile shape.
template <int MR, int NR>
PAGELLM_INLINE void Tile(const float* x, int64_t ldx, const float* w, int64_t k, float* y,
                         int64_t ldy) {
  V8 acc[MR][NR] = {};
  int64_t k8 = k / 8 * 8;
  for (int64_t l = 0; l < k8; l += 8) {
    V8 xv[MR], wv[NR];
    for (int r = 0; r < MR; ++r) xv[r] = Load8(x + r * ldx + l);
    for (int c = 0; c < NR; ++c) wv[c] = Load8(w + c * k + l);
    for (int r = 0; r < MR; ++r)
      for (int c = 0; c < NR; ++c) acc[r][c] += xv[r] * wv[c];
  }
  for (int r = 0; r < MR; ++r)
    for (int c = 0; c < NR; ++c) y[r * ldy + c] = Reduce(acc[r][c], x + r * ldx, w + c * k, k8, k);
}

template <int MR>
PAGELLM_INLINE void RowTiles(const float* x, int64_t ldx, const float* w, int64_t rows, int64_t k,
                             float* y, int64_t ldy) {
  int64_t c = 0;
  for (; c + 2 <= rows; c += 2) Tile<MR, 2>(x, ldx, w + c * k, k, y + c, ldy);
  if (c < rows) Tile<MR, 1>(x, ldx, w + c * k, k, y + c, ldy);
}

// y[:, 0:rows] for one block of f32 weight rows. One clone per ISA, picked once at load time,
// so results stay identical within a machine.
__attribute__((target_clones("avx512f", "avx2", "default"))) void BlockGemm(
    const float* x, int64_t ldx, const float* w, int64_t rows, int64_t k, float* y, int64_t ldy,
    int64_t m) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) RowTiles<4>(x + i * ldx, ldx, w, rows, k, y + i * ldy, ldy);
  for (; i < m; ++i) RowTiles<1>(x + i * ldx, ldx, w, rows, k, y + i * ldy, ldy);
}

}  // namespace

void DotGemm(const ExecCtx& ctx, const float* x32, int64_t ldx, const void* w, DType wt, float* y32,
             int64_t ldy, int64_t m, int64_t n, int64_t k) {
  int64_t tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  int threads = NumThreads(ctx.num_threads, m * n * k, 1 << 18);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t t = 0; t < tasks; ++t) {
    int64_t j0 = t * kRowsPerTask, rows = std::min(kRowsPerTask, n - j0);
    const float* wb = static_cast<const float*>(w) + j0 * k;
    if (wt != DType::kF32) {
      float* buf = Scratch(rows * k, 2);
      for (int64_t r = 0; r < rows; ++r) LoadRow(w, wt, (j0 + r) * k, k, buf + r * k);
      wb = buf;
    }
    BlockGemm(x32, ldx, wb, rows, k, y32 + j0, ldy, m);
  }
}

}  // namespace pagellm::cpu::internal

// Linear: f32 GEMM through OpenBLAS (single-threaded calls on per-thread slices of the weight
// rows). Half-precision weights are widened to f32 in small L2-resident blocks, then either go
// through the tiled dot kernel (few tokens: memory bound) or sgemm (many tokens: compute bound).
// ExecCtx::batch_invariant always uses the dot kernel (fixed summation order).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"
#include "backends/cpu/dot_kernel.h"

namespace pagellm::cpu {
namespace {

using internal::LoadRow;
using internal::StoreRow;

constexpr int64_t kSmallM = 8;            // half weights: at most this many rows use the dot kernel
constexpr int64_t kBlockBytes = 1 << 20;  // f32 weight block (per thread) for the sgemm path

// OpenBLAS runs single-threaded inside our OpenMP threads: mixing its pthread pool with
// OpenMP makes each pool's idle threads spin against the other (measured 5x slower). An
// OpenMP-built OpenBLAS is already single-threaded inside our parallel regions, and its
// openblas_set_num_threads would also lower OpenMP's default team size: leave it alone.
void UseSingleThreadedBlas() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (openblas_get_parallel() == 2) return;  // 0 sequential, 1 pthreads, 2 OpenMP
    int omp_threads = omp_get_max_threads();
    openblas_set_num_threads(1);
    omp_set_num_threads(omp_threads);  // in case the BLAS touched OpenMP's setting anyway
  });
}

// y32[m, rows] (ld ldy) = x32 @ w[rows, k]^T for one slice of weight rows, in f32 blocks.
void SliceGemm(const float* x32, int64_t ldx, const void* w, DType wt, int64_t j0, int64_t rows,
               float* y32, int64_t ldy, int64_t m, int64_t k) {
  int64_t nb = std::clamp<int64_t>(kBlockBytes / (4 * std::max<int64_t>(k, 1)), 16, 1024);
  for (int64_t b = 0; b < rows; b += nb) {
    int64_t r = std::min(nb, rows - b);
    const float* wb = static_cast<const float*>(w) + (j0 + b) * k;
    if (wt != DType::kF32) {
      float* buf = internal::Scratch(r * k, 1);
      for (int64_t i = 0; i < r; ++i) LoadRow(w, wt, (j0 + b + i) * k, k, buf + i * k);
      wb = buf;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(r),
                static_cast<int>(k), 1.f, x32, static_cast<int>(ldx), wb, static_cast<int>(k), 0.f,
                y32 + j0 + b, static_cast<int>(ldy));
  }
}

// Splits the weight rows over OpenMP threads; each runs single-threaded sgemm on its slice.
void ParallelGemm(const ExecCtx& ctx, const float* x32, int64_t ldx, const void* w, DType wt,
                  float* y32, int64_t ldy, int64_t m, int64_t n, int64_t k) {
  UseSingleThreadedBlas();
  int threads = internal::NumThreads(ctx.num_threads, m * n * k, 1 << 20);
  int64_t slice = ((n + threads - 1) / threads + 15) / 16 * 16;
  int64_t slices = (n + slice - 1) / slice;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t s = 0; s < slices; ++s) {
    int64_t j0 = s * slice;
    SliceGemm(x32, ldx, w, wt, j0, std::min(slice, n - j0), y32, ldy, m, k);
  }
}

}  // namespace

Status Linear(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, const void* w,
              DType w_dtype, const void* bias, DType bias_dtype, void* y, DType y_dtype,
              int64_t ldy, int64_t m, int64_t n, int64_t k) {
  if (m == 0 || n == 0) return OkStatus();
  // Activations in f32 (borrowed when already f32).
  std::vector<float> x_buf;
  const float* x32 = static_cast<const float*>(x);
  int64_t ldx32 = ldx;
  if (x_dtype != DType::kF32) {
    x_buf.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m; ++i) LoadRow(x, x_dtype, i * ldx, k, x_buf.data() + i * k);
    x32 = x_buf.data();
    ldx32 = k;
  }
  std::vector<float> y_buf;
  float* y32 = static_cast<float*>(y);
  int64_t ldy32 = ldy;
  if (y_dtype != DType::kF32) {
    y_buf.resize(static_cast<size_t>(m * n));
    y32 = y_buf.data();
    ldy32 = n;
  }
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(y32 + i * ldy32, y32 + i * ldy32 + n, 0.f);
  } else if (ctx.batch_invariant || (w_dtype != DType::kF32 && m <= kSmallM)) {
    internal::DotGemm(ctx, x32, ldx32, w, w_dtype, y32, ldy32, m, n, k);
  } else {
    ParallelGemm(ctx, x32, ldx32, w, w_dtype, y32, ldy32, m, n, k);
  }
  if (bias) {
    std::vector<float> b32(static_cast<size_t>(n));
    LoadRow(bias, bias_dtype, 0, n, b32.data());
    for (int64_t i = 0; i < m; ++i) {
      float* row = y32 + i * ldy32;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] += b32[j];
    }
  }
  if (y_dtype != DType::kF32) {
    int threads = internal::NumThreads(ctx.num_threads, m * n);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < m; ++i) StoreRow(y32 + i * n, n, y, y_dtype, i * ldy);
  }
  return OkStatus();
}

}  // namespace pagellm::cpu

// Linear: f32 GEMM through OpenBLAS. Half-precision weights are widened to f32 either row by
// row inside a dot-product kernel (few tokens: memory bound, never materializes the weight) or
// in blocks of rows that then go through sgemm (many tokens: compute bound).
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

namespace pagellm::cpu {
namespace {

using internal::LoadRow;
using internal::StoreRow;

constexpr int64_t kSmallM = 8;                   // at most this many rows use the dot kernel
constexpr int64_t kBlockBytes = 8 << 20;         // f32 weight block for the sgemm path

inline float Dot(const float* a, const float* b, int64_t k) {
  float acc = 0.f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < k; ++i) acc += a[i] * b[i];
  return acc;
}

// y32[m, n] = x32[m, k] @ w[n, k]^T for half-precision w and small m.
void SmallMHalfWeight(const ExecCtx& ctx, const float* x32, int64_t ldx, const void* w,
                      DType wt, float* y32, int64_t ldy, int64_t m, int64_t n, int64_t k) {
  int threads = internal::NumThreads(ctx.num_threads, n * k, 1 << 16);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t j = 0; j < n; ++j) {
    float* wrow = internal::Scratch(k);
    LoadRow(w, wt, j * k, k, wrow);
    for (int64_t i = 0; i < m; ++i) y32[i * ldy + j] = Dot(x32 + i * ldx, wrow, k);
  }
}

// y32 = x32 @ w^T, widening w in blocks of rows and multiplying each block with sgemm.
void BlockedHalfWeight(const ExecCtx& ctx, const float* x32, int64_t ldx, const void* w,
                       DType wt, float* y32, int64_t ldy, int64_t m, int64_t n, int64_t k) {
  int64_t nb = std::clamp<int64_t>(kBlockBytes / (4 * std::max<int64_t>(k, 1)), 16, n);
  std::vector<float> wblock(static_cast<size_t>(nb * k));
  int threads = internal::NumThreads(ctx.num_threads, nb * k, 1 << 16);
  for (int64_t j0 = 0; j0 < n; j0 += nb) {
    int64_t rows = std::min(nb, n - j0);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; ++r) LoadRow(w, wt, (j0 + r) * k, k, wblock.data() + r * k);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m),
                static_cast<int>(rows), static_cast<int>(k), 1.f, x32, static_cast<int>(ldx),
                wblock.data(), static_cast<int>(k), 0.f, y32 + j0, static_cast<int>(ldy));
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
  } else if (w_dtype == DType::kF32) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.f, x32, static_cast<int>(ldx32),
                static_cast<const float*>(w), static_cast<int>(k), 0.f, y32,
                static_cast<int>(ldy32));
  } else if (m <= kSmallM) {
    SmallMHalfWeight(ctx, x32, ldx32, w, w_dtype, y32, ldy32, m, n, k);
  } else {
    BlockedHalfWeight(ctx, x32, ldx32, w, w_dtype, y32, ldy32, m, n, k);
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

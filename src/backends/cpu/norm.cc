// RmsNorm / AddRmsNorm / LayerNorm, one row per OpenMP iteration, math in f32.
// RmsNorm follows HF: Llama-style (weight_offset == 0) rounds the normalized row to the input
// dtype before multiplying by the weight (LlamaRMSNorm); Gemma-style (weight_offset != 0)
// multiplies by (offset + weight) in f32 and rounds once (GemmaRMSNorm).
#include <cmath>

#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/cpu_util.h"

namespace pagellm::cpu {
namespace {

using internal::LoadRow;
using internal::StoreRow;

// Normalizes xr (f32, already in the input's precision) and writes the row to out.
void RmsRow(float* xr, DType in_dtype, const float* w32, float eps, float weight_offset,
            int64_t hidden, void* out, DType out_dtype, int64_t out_offset) {
  float ss = 0.f;
#pragma omp simd reduction(+ : ss)
  for (int64_t i = 0; i < hidden; ++i) ss += xr[i] * xr[i];
  float inv = 1.f / std::sqrt(ss / static_cast<float>(hidden) + eps);
  if (weight_offset == 0.f) {
    for (int64_t i = 0; i < hidden; ++i) xr[i] = internal::RoundTo(xr[i] * inv, in_dtype) * w32[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < hidden; ++i) xr[i] = xr[i] * inv * (weight_offset + w32[i]);
  }
  StoreRow(xr, hidden, out, out_dtype, out_offset);
}

std::vector<float> WeightF32(const void* w, DType t, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  if (w) LoadRow(w, t, 0, n, v.data());
  return v;
}

}  // namespace

Status RmsNorm(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, const void* weight,
               DType w_dtype, float eps, float weight_offset, void* out, DType out_dtype,
               int64_t ldo, int64_t rows, int64_t hidden) {
  std::vector<float> w32 = WeightF32(weight, w_dtype, hidden);
  int threads = internal::NumThreads(ctx.num_threads, rows * hidden);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = internal::Scratch(hidden);
    LoadRow(x, x_dtype, r * ldx, hidden, xr);
    RmsRow(xr, x_dtype, w32.data(), eps, weight_offset, hidden, out, out_dtype, r * ldo);
  }
  return OkStatus();
}

Status AddRmsNorm(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, void* residual,
                  DType r_dtype, int64_t ldr, const void* weight, DType w_dtype, float eps,
                  float weight_offset, void* out, DType out_dtype, int64_t ldo, int64_t rows,
                  int64_t hidden) {
  std::vector<float> w32 = WeightF32(weight, w_dtype, hidden);
  int threads = internal::NumThreads(ctx.num_threads, rows * hidden);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = internal::Scratch(hidden, 0);
    float* rr = internal::Scratch(hidden, 1);
    LoadRow(x, x_dtype, r * ldx, hidden, xr);
    LoadRow(residual, r_dtype, r * ldr, hidden, rr);
    for (int64_t i = 0; i < hidden; ++i) rr[i] = internal::RoundTo(rr[i] + xr[i], r_dtype);
    StoreRow(rr, hidden, residual, r_dtype, r * ldr);
    RmsRow(rr, r_dtype, w32.data(), eps, weight_offset, hidden, out, out_dtype, r * ldo);
  }
  return OkStatus();
}

Status LayerNorm(const ExecCtx& ctx, const void* x, DType x_dtype, int64_t ldx, const void* weight,
                 DType w_dtype, const void* bias, DType b_dtype, float eps, void* out,
                 DType out_dtype, int64_t ldo, int64_t rows, int64_t hidden) {
  std::vector<float> w32 = WeightF32(weight, w_dtype, hidden);
  std::vector<float> b32 = WeightF32(bias, b_dtype, hidden);  // zeros when bias is null
  int threads = internal::NumThreads(ctx.num_threads, rows * hidden);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = internal::Scratch(hidden);
    LoadRow(x, x_dtype, r * ldx, hidden, xr);
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < hidden; ++i) sum += xr[i];
    float mean = sum / static_cast<float>(hidden);
    float sq = 0.f;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < hidden; ++i) sq += (xr[i] - mean) * (xr[i] - mean);
    float rstd = 1.f / std::sqrt(sq / static_cast<float>(hidden) + eps);
#pragma omp simd
    for (int64_t i = 0; i < hidden; ++i) xr[i] = (xr[i] - mean) * rstd * w32[i] + b32[i];
    StoreRow(xr, hidden, out, out_dtype, r * ldo);
  }
  return OkStatus();
}

}  // namespace pagellm::cpu

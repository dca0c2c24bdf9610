// RmsNorm, fused residual-add + RmsNorm, LayerNorm: one CTA per row, f32 statistics.
#include <type_traits>

#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"

namespace pagellm::cuda::kernels {
namespace {

template <typename T, typename TO>
__global__ void NormKernel(NormArgs p, int wkind, int bkind) {
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  const T* x = static_cast<const T*>(p.x.ptr) + r * p.x.stride;
  T* res =
      p.kind == NormKind::kAddRms ? static_cast<T*>(p.residual) + r * p.residual_stride : nullptr;
  TO* out = static_cast<TO*>(p.out) + r * p.out_stride;
  // Pass 1: the statistic. For kAddRms the residual is updated here and its rounded value is
  // what gets normalised (the same bits a later layer reads back).
  float acc = 0.f;
  for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
    float v = ToF(x[c]);
    if (res) {
      const T sum = FromF<T>(v + ToF(res[c]));
      res[c] = sum;
      v = ToF(sum);
    }
    acc += p.kind == NormKind::kLayer ? v : v * v;
  }
  const float n = static_cast<float>(p.cols);
  float mean = 0.f, inv;
  if (p.kind == NormKind::kLayer) {
    mean = BlockSum(acc, scratch) / n;
    float var = 0.f;
    for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
      const float d = ToF(x[c]) - mean;
      var += d * d;
    }
    inv = rsqrtf(BlockSum(var, scratch) / n + p.eps);
  } else {
    inv = rsqrtf(BlockSum(acc, scratch) / n + p.eps);
  }
  // Pass 2: write. Each thread re-reads only elements it wrote itself in pass 1.
  for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
    const float v = res ? ToF(res[c]) : ToF(x[c]);
    const float w = LoadAny(p.weight, wkind, c);
    float y;
    if (p.kind == NormKind::kLayer) {
      y = (v - mean) * inv * w;
      if (p.bias) y += LoadAny(p.bias, bkind, c);
    } else if (p.weight_offset == 0.f) {
      y = ToF(FromF<T>(v * inv)) * w;  // HF LlamaRMSNorm: round, then multiply by the weight
    } else {
      y = v * inv * (w + p.weight_offset);  // HF GemmaRMSNorm: f32 throughout
    }
    out[c] = FromF<TO>(y);
  }
}

// Same math in one pass over memory: each thread keeps up to kPacks 16-byte packs of its row in
// registers. REQUIRES: cols % kN == 0, cols <= blockDim.x * kN * kPacks, 16-byte aligned rows.
constexpr int kPacks = 4;

template <typename T, typename TO>
__global__ void NormVecKernel(NormArgs p, int wkind, int bkind, bool out_vec) {
  constexpr int kN = Pack<T>::kN;
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  const T* x = static_cast<const T*>(p.x.ptr) + r * p.x.stride;
  T* res =
      p.kind == NormKind::kAddRms ? static_cast<T*>(p.residual) + r * p.residual_stride : nullptr;
  TO* out = static_cast<TO*>(p.out) + r * p.out_stride;
  float v[kPacks][kN];
  float acc = 0.f;
#pragma unroll
  for (int k = 0; k < kPacks; ++k) {
    const int64_t c = (static_cast<int64_t>(k) * blockDim.x + threadIdx.x) * kN;
    if (c >= p.cols) continue;
    LoadPack(x + c, v[k]);
    if (res) {
      float rv[kN];
      LoadPack(res + c, rv);
#pragma unroll
      for (int e = 0; e < kN; ++e) v[k][e] = ToF(FromF<T>(v[k][e] + rv[e]));  // rounded sum
      StorePack(res + c, v[k]);
    }
#pragma unroll
    for (int e = 0; e < kN; ++e) acc += p.kind == NormKind::kLayer ? v[k][e] : v[k][e] * v[k][e];
  }
  const float n = static_cast<float>(p.cols);
  float mean = 0.f, inv;
  if (p.kind == NormKind::kLayer) {
    mean = BlockSum(acc, scratch) / n;
    float var = 0.f;
#pragma unroll
    for (int k = 0; k < kPacks; ++k) {
      const int64_t c = (static_cast<int64_t>(k) * blockDim.x + threadIdx.x) * kN;
      if (c >= p.cols) continue;
#pragma unroll
      for (int e = 0; e < kN; ++e) var += (v[k][e] - mean) * (v[k][e] - mean);
    }
    inv = rsqrtf(BlockSum(var, scratch) / n + p.eps);
  } else {
    inv = rsqrtf(BlockSum(acc, scratch) / n + p.eps);
  }
#pragma unroll
  for (int k = 0; k < kPacks; ++k) {
    const int64_t c = (static_cast<int64_t>(k) * blockDim.x + threadIdx.x) * kN;
    if (c >= p.cols) continue;
    float y[kN];
#pragma unroll
    for (int e = 0; e < kN; ++e) {
      const float w = LoadAny(p.weight, wkind, c + e);
      if (p.kind == NormKind::kLayer) {
        y[e] = (v[k][e] - mean) * inv * w;
        if (p.bias) y[e] += LoadAny(p.bias, bkind, c + e);
      } else if (p.weight_offset == 0.f) {
        y[e] = ToF(FromF<T>(v[k][e] * inv)) * w;
      } else {
        y[e] = v[k][e] * inv * (w + p.weight_offset);
      }
    }
    if constexpr (std::is_same_v<T, TO>) {
      if (out_vec) {
        StorePack(out + c, y);
        continue;
      }
    }
#pragma unroll
    for (int e = 0; e < kN; ++e) out[c + e] = FromF<TO>(y[e]);
  }
}

template <typename T, typename TO>
cudaError_t Launch(const NormArgs& p, cudaStream_t stream) {
  if (p.rows == 0) return cudaSuccess;
  constexpr int kN = Pack<T>::kN;
  const int threads = p.cols >= 2048 ? 512 : (p.cols >= 512 ? 256 : 128);
  const bool vec =
      p.cols % kN == 0 && p.cols <= static_cast<int64_t>(threads) * kN * kPacks &&
      Aligned16(p.x.ptr) && p.x.stride % kN == 0 &&
      (p.kind != NormKind::kAddRms || (Aligned16(p.residual) && p.residual_stride % kN == 0));
  if (vec) {
    const bool out_vec = Aligned16(p.out) && p.out_stride % kN == 0;
    NormVecKernel<T, TO><<<static_cast<unsigned>(p.rows), threads, 0, stream>>>(
        p, DTypeKind(p.weight_t), DTypeKind(p.bias_t), out_vec);
  } else {
    NormKernel<T, TO><<<static_cast<unsigned>(p.rows), threads, 0, stream>>>(
        p, DTypeKind(p.weight_t), DTypeKind(p.bias_t));
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t LaunchOut(DType out_t, const NormArgs& p, cudaStream_t stream) {
  switch (out_t) {
    case DType::kF32:
      return Launch<T, float>(p, stream);
    case DType::kF16:
      return Launch<T, __half>(p, stream);
    case DType::kBF16:
      return Launch<T, __nv_bfloat16>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t Norm(DType dtype, DType out_dtype, const NormArgs& args, cudaStream_t stream) {
  switch (dtype) {
    case DType::kF32:
      return LaunchOut<float>(out_dtype, args, stream);
    case DType::kF16:
      return LaunchOut<__half>(out_dtype, args, stream);
    case DType::kBF16:
      return LaunchOut<__nv_bfloat16>(out_dtype, args, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace pagellm::cuda::kernels

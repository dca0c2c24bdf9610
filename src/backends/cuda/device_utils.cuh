// Device-side helpers shared by the kernels: dtype <-> float, 16-byte packs, warp/block reductions.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "tensor/dtype.h"

namespace pagellm::cuda {

__device__ __forceinline__ float ToF(float v) { return v; }
__device__ __forceinline__ float ToF(__half v) { return __half2float(v); }
__device__ __forceinline__ float ToF(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T FromF(float v);
template <>
__device__ __forceinline__ float FromF<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half FromF<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromF<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// Reads element i of a float tensor whose dtype is only known at run time (small side inputs:
// norm weights, biases). kind: 0 f32, 1 f16, 2 bf16.
__device__ __forceinline__ float LoadAny(const void* p, int kind, int64_t i) {
  if (kind == 0) return static_cast<const float*>(p)[i];
  if (kind == 1) return __half2float(static_cast<const __half*>(p)[i]);
  return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
}
inline int DTypeKind(DType t) { return t == DType::kF32 ? 0 : t == DType::kF16 ? 1 : 2; }

// N elements of T in one aligned 16-byte access (N * sizeof(T) == 16).
template <typename T>
struct alignas(16) Pack {
  static constexpr int kN = 16 / sizeof(T);
  T v[kN];
};

template <typename T>
__device__ __forceinline__ void LoadPack(const T* p, float (&f)[Pack<T>::kN]) {
  Pack<T> pk = *reinterpret_cast<const Pack<T>*>(p);
#pragma unroll
  for (int i = 0; i < Pack<T>::kN; ++i) f[i] = ToF(pk.v[i]);
}
template <typename T>
__device__ __forceinline__ void StorePack(T* p, const float (&f)[Pack<T>::kN]) {
  Pack<T> pk;
#pragma unroll
  for (int i = 0; i < Pack<T>::kN; ++i) pk.v[i] = FromF<T>(f[i]);
  *reinterpret_cast<Pack<T>*>(p) = pk;
}

__device__ __forceinline__ float WarpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float WarpMax(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block; every thread gets the result. REQUIRES: blockDim.x % 32 == 0,
// all threads call it; `scratch` holds >= 32 floats and is reused only after this returns.
__device__ __forceinline__ float BlockSum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  v = WarpSum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = lane < nwarps ? scratch[lane] : 0.f;
  return WarpSum(t);
}

inline bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace pagellm::cuda

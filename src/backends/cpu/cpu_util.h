// Internal helpers for the CPU kernels: row conversion to/from f32 and OpenMP plumbing.
#pragma once

#include <omp.h>

#include <cstdint>
#include <vector>

#include "tensor/dtype.h"

namespace pagellm::cpu::internal {

inline bool IsFloatType(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16;
}

// Exact IEEE half -> float without branches (vectorizable): normals and subnormals are the
// half's bits placed in a float and scaled by 2^112; inf/NaN get the float exponent.
inline float HalfToFloatFast(uint16_t h) {
  uint32_t em = h & 0x7fffu;
  float f = BitsFloat(em << 13) * 0x1p112f;
  uint32_t bits = em >= 0x7c00u ? ((em << 13) | 0x7f800000u) : FloatBits(f);
  return BitsFloat(bits | (static_cast<uint32_t>(h & 0x8000u) << 16));
}

// dst[i] = float(src[offset + i]) for i < n. Vectorizable.
inline void LoadRow(const void* src, DType t, int64_t offset, int64_t n, float* dst) {
  switch (t) {
    case DType::kF32: {
      const float* s = static_cast<const float*>(src) + offset;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dst[i] = s[i];
      break;
    }
    case DType::kBF16: {
      const uint16_t* s = static_cast<const uint16_t*>(src) + offset;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dst[i] = BitsFloat(static_cast<uint32_t>(s[i]) << 16);
      break;
    }
    case DType::kF16: {
      const uint16_t* s = static_cast<const uint16_t*>(src) + offset;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dst[i] = HalfToFloatFast(s[i]);
      break;
    }
    default:
      for (int64_t i = 0; i < n; ++i) dst[i] = 0.f;
  }
}

// dst[offset + i] = src[i] rounded to t (nearest even).
inline void StoreRow(const float* src, int64_t n, void* dst, DType t, int64_t offset) {
  switch (t) {
    case DType::kF32: {
      float* d = static_cast<float*>(dst) + offset;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) d[i] = src[i];
      break;
    }
    case DType::kBF16: {
      uint16_t* d = static_cast<uint16_t*>(dst) + offset;
      for (int64_t i = 0; i < n; ++i) d[i] = FloatToBF16(src[i]);
      break;
    }
    case DType::kF16: {
      uint16_t* d = static_cast<uint16_t*>(dst) + offset;
      for (int64_t i = 0; i < n; ++i) d[i] = FloatToHalf(src[i]);
      break;
    }
    default:
      break;
  }
}

// Rounds v through dtype t and back (models storing an intermediate in t).
inline float RoundTo(float v, DType t) {
  switch (t) {
    case DType::kBF16:
      return BF16ToFloat(FloatToBF16(v));
    case DType::kF16:
      return HalfToFloat(FloatToHalf(v));
    default:
      return v;
  }
}

// Threads to use for `work` units of roughly `grain` cost each (1 when tiny).
inline int NumThreads(int requested, int64_t work, int64_t grain = 1 << 14) {
  int max_t = requested > 0 ? requested : omp_get_max_threads();
  int64_t by_work = work / grain + 1;
  return static_cast<int>(by_work < max_t ? by_work : max_t);
}

// A per-thread scratch vector of at least n floats (grows, never shrinks).
inline float* Scratch(int64_t n, int slot = 0) {
  thread_local std::vector<float> bufs[4];
  if (static_cast<int64_t>(bufs[slot].size()) < n) bufs[slot].resize(n);
  return bufs[slot].data();
}

}  // namespace pagellm::cpu::internal

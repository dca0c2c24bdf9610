// Element types and exact conversions (round-to-nearest-even on narrowing).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pagellm {

enum class DType : uint8_t { kF32, kF16, kBF16, kI32, kI64, kI8, kU8, kFP8E4M3 };

size_t DTypeSize(DType t);
std::string_view DTypeName(DType t);  // "float32", "float16", "bfloat16", "int32", ...
// Accepts torch / HF / safetensors spellings: "float32", "fp32", "F32", "torch.bfloat16", ...
StatusOr<DType> ParseDType(std::string_view name);
inline bool IsFloating(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 || t == DType::kFP8E4M3;
}

inline uint32_t FloatBits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float BitsFloat(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// bfloat16: upper 16 bits of an IEEE float, rounded to nearest even; NaN stays NaN.
inline uint16_t FloatToBF16(float f) {
  uint32_t u = FloatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float BF16ToFloat(uint16_t h) { return BitsFloat(static_cast<uint32_t>(h) << 16); }

uint16_t FloatToHalf(float f);  // IEEE binary16, round to nearest even, overflow to inf
float HalfToFloat(uint16_t h);  // exact

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float f) : bits(FloatToBF16(f)) {}
  explicit operator float() const { return BF16ToFloat(bits); }
};
struct Float16 {
  uint16_t bits = 0;
  Float16() = default;
  explicit Float16(float f) : bits(FloatToHalf(f)) {}
  explicit operator float() const { return HalfToFloat(bits); }
};

// Reads element i of a buffer of the given floating type as float.
inline float LoadAsFloat(const void* p, DType t, size_t i) {
  switch (t) {
    case DType::kF32: return static_cast<const float*>(p)[i];
    case DType::kBF16: return BF16ToFloat(static_cast<const uint16_t*>(p)[i]);
    case DType::kF16: return HalfToFloat(static_cast<const uint16_t*>(p)[i]);
    case DType::kI32: return static_cast<float>(static_cast<const int32_t*>(p)[i]);
    default: return 0.f;
  }
}
inline void StoreFromFloat(void* p, DType t, size_t i, float v) {
  switch (t) {
    case DType::kF32: static_cast<float*>(p)[i] = v; break;
    case DType::kBF16: static_cast<uint16_t*>(p)[i] = FloatToBF16(v); break;
    case DType::kF16: static_cast<uint16_t*>(p)[i] = FloatToHalf(v); break;
    case DType::kI32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v); break;
    default: break;
  }
}

// Converts n elements between floating types on the host (f32/f16/bf16).
void ConvertBuffer(const void* src, DType src_t, void* dst, DType dst_t, size_t n);

}  // namespace pagellm

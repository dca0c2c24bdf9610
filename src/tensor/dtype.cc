#include "tensor/dtype.h"

#include <algorithm>
#include <cctype>

namespace pagellm {

size_t DTypeSize(DType t) {
  switch (t) {
    case DType::kF32: case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kF16: case DType::kBF16: return 2;
    case DType::kI8: case DType::kU8: case DType::kFP8E4M3: return 1;
  }
  return 0;
}

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kF16: return "float16";
    case DType::kBF16: return "bfloat16";
    case DType::kI32: return "int32";
    case DType::kI64: return "int64";
    case DType::kI8: return "int8";
    case DType::kU8: return "uint8";
    case DType::kFP8E4M3: return "float8_e4m3fn";
  }
  return "?";
}

StatusOr<DType> ParseDType(std::string_view name) {
  std::string s(name);
  if (s.rfind("torch.", 0) == 0) s = s.substr(6);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "float32" || s == "fp32" || s == "f32" || s == "float") return DType::kF32;
  if (s == "float16" || s == "fp16" || s == "f16" || s == "half") return DType::kF16;
  if (s == "bfloat16" || s == "bf16") return DType::kBF16;
  if (s == "int32" || s == "i32" || s == "int") return DType::kI32;
  if (s == "int64" || s == "i64" || s == "long") return DType::kI64;
  if (s == "int8" || s == "i8") return DType::kI8;
  if (s == "uint8" || s == "u8") return DType::kU8;
  if (s == "float8_e4m3fn" || s == "f8_e4m3" || s == "fp8") return DType::kFP8E4M3;
  return InvalidArgumentError("unknown dtype '" + std::string(name) + "'");
}

uint16_t FloatToHalf(float f) {
  uint32_t x = FloatBits(f);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u;               // NaN
  if (ax >= 0x477ff000u) return sign | 0x7c00u;              // overflow (>= 65520) -> inf
  if (ax < 0x33000001u) return sign;                         // < half the smallest subnormal
  uint32_t exp = ax >> 23;
  uint32_t mant = (ax & 0x7fffffu);
  if (exp < 113) {                                           // subnormal half
    mant |= 0x800000u;
    uint32_t shift = 126 - exp;                              // 14..24
    uint32_t res = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (res & 1u))) ++res;
    return sign | static_cast<uint16_t>(res);
  }
  uint32_t res = ((exp - 112) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (res & 1u))) ++res;  // carry may bump exponent: fine
  return sign | static_cast<uint16_t>(res);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return BitsFloat(sign);
    float v = static_cast<float>(mant) * (1.0f / 16777216.0f);  // mant * 2^-24
    return sign ? -v : v;
  }
  if (exp == 31) return BitsFloat(sign | 0x7f800000u | (mant << 13));
  return BitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

void ConvertBuffer(const void* src, DType src_t, void* dst, DType dst_t, size_t n) {
  if (src_t == dst_t) {
    std::memcpy(dst, src, n * DTypeSize(src_t));
    return;
  }
#pragma omp parallel for if (n > (1 << 16)) schedule(static)
  for (size_t i = 0; i < n; ++i) StoreFromFloat(dst, dst_t, i, LoadAsFloat(src, src_t, i));
}

}  // namespace pagellm

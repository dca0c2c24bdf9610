// Warp-level tensor-core building blocks for the attention kernels (sm_80+): cp.async staging,
// swizzled shared tiles, ldmatrix and mma.sync m16n8k16 with f32 accumulators.
//
// Fragment layouts of mma.m16n8k16 (g = lane / 4, t = lane % 4), used by the callers:
//   A (16x16, row-major) a[0]: (g, 2t..2t+1)  a[1]: (g+8, 2t..)  a[2]: (g, 2t+8..)
//                        a[3]: (g+8, 2t+8..)
//   B (16x8, k x n)      b[0]: (k 2t..2t+1, n g)  b[1]: (k 2t+8..2t+9, n g)
//   C (16x8, f32)        c[0..1]: (g, 2t..2t+1)  c[2..3]: (g+8, 2t..2t+1)
// So the C fragments of two adjacent n-tiles, packed to 16 bits, are exactly the A fragment of
// the next product (FlashAttention-2's register-resident P).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace pagellm::cuda::mma {

__device__ __forceinline__ void CpAsync16(void* smem, const void* gmem, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int n = valid ? 16 : 0;  // 0 source bytes: the 16 destination bytes are zero-filled
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
}
__device__ __forceinline__ void CpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Element offset of 16-byte chunk `ch` of row `r` in a tile whose rows hold kD 16-bit elements.
// The chunk index is XORed with the row's low 3 bits so that 8 rows read at the same chunk (an
// ldmatrix 8x8 matrix) hit 8 different bank groups. REQUIRES: kD % 64 == 0 (8+ chunks a row).
template <int kD>
__device__ __forceinline__ int Swz(int r, int ch) {
  return r * kD + ((ch ^ (r & 7)) << 3);
}

// Four 8x8 16-bit matrices; lane L names row L % 8 of matrix L / 8. r[i] is matrix i's fragment
// (lane holds row lane / 4, elements 2 (lane % 4) and +1).
__device__ __forceinline__ void LdMatrixX4(uint32_t (&r)[4], const void* smem_row) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem_row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s));
}
// The same, transposed: lane holds column lane / 4, rows 2 (lane % 4) and +1.
__device__ __forceinline__ void LdMatrixX4Trans(uint32_t (&r)[4], const void* smem_row) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem_row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s));
}

template <typename T>
__device__ __forceinline__ void Mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1);
template <>
__device__ __forceinline__ void Mma16816<__nv_bfloat16>(float (&c)[4], const uint32_t (&a)[4],
                                                        uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void Mma16816<__half>(float (&c)[4], const uint32_t (&a)[4],
                                                 uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as one 32-bit register of two 16-bit values (x in the low half).
template <typename T>
__device__ __forceinline__ uint32_t Pack2(float x, float y);
template <>
__device__ __forceinline__ uint32_t Pack2<__nv_bfloat16>(float x, float y) {
  __nv_bfloat162 v = __floats2bfloat162_rn(x, y);
  return *reinterpret_cast<uint32_t*>(&v);
}
template <>
__device__ __forceinline__ uint32_t Pack2<__half>(float x, float y) {
  __half2 v = __floats2half2_rn(x, y);
  return *reinterpret_cast<uint32_t*>(&v);
}

// Two consecutive 16-bit elements as one register (p 4-byte aligned).
template <typename T>
__device__ __forceinline__ uint32_t Load2(const T* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}

}  // namespace pagellm::cuda::mma

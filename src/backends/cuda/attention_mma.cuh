// FlashAttention-2 warp tiles on mma.sync, shared by the decode and prefill MMA kernels. A warp
// owns 16 query rows; a thread holds rows g = lane / 4 and g + 8 (mma_utils.cuh has the
// fragment layouts). K and V tiles are swizzled shared tiles (mma::Swz) of kD-element rows.
//   s[n][e]: score of row g + 8 (e >> 1) against key 8 n + 2 (lane % 4) + (e & 1) of the tile.
//   o[j][e]: output of row g + 8 (e >> 1), dimension 8 j + 2 (lane % 4) + (e & 1).
#pragma once

#include <cmath>
#include <cstdint>

#include "backends/cuda/mma_utils.cuh"

namespace pagellm::cuda::attn {

// s = Q K^T for kN * 8 keys (tile rows 0..8 kN) from Q's A fragments qa.
template <typename T, int kD, int kN>
__device__ __forceinline__ void QKt(float (&s)[kN][4], const uint32_t (&qa)[kD / 16][4],
                                    const T* ks, int lane) {
#pragma unroll
  for (int n = 0; n < kN; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
  for (int k = 0; k < kD / 16; ++k)
#pragma unroll
    for (int np = 0; np < kN / 2; ++np) {
      uint32_t r[4];
      mma::LdMatrixX4(r, ks + mma::Swz<kD>(16 * np + ((lane >> 4) << 3) + (lane & 7),
                                           2 * k + ((lane >> 3) & 1)));
      mma::Mma16816<T>(s[2 * np], qa[k], r[0], r[1]);
      mma::Mma16816<T>(s[2 * np + 1], qa[k], r[2], r[3]);
    }
}

// One online-softmax step over a tile's scores (masked ones -inf): folds the tile's row max
// into m, rescales l and o, and turns s into p = exp(s - m) with l += the thread's share of
// the row sums (QuadSum completes l at the end). A row with no visible key yet stays all zero.
template <int kN, int kJ>
__device__ __forceinline__ void OnlineSoftmax(float (&s)[kN][4], float (&m)[2], float (&l)[2],
                                              float (&o)[kJ][4]) {
  float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
  for (int n = 0; n < kN; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) mx[e >> 1] = fmaxf(mx[e >> 1], s[n][e]);
  float alpha[2], m_use[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
    const float m_new = fmaxf(m[r], mx[r]);
    m_use[r] = m_new == -INFINITY ? 0.f : m_new;
    alpha[r] = __expf(m[r] - m_use[r]);  // 0 while m was -inf
    m[r] = m_new;
    l[r] *= alpha[r];
  }
#pragma unroll
  for (int n = 0; n < kN; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      s[n][e] = __expf(s[n][e] - m_use[e >> 1]);
      l[e >> 1] += s[n][e];
    }
#pragma unroll
  for (int j = 0; j < kJ; ++j) {
    o[j][0] *= alpha[0];
    o[j][1] *= alpha[0];
    o[j][2] *= alpha[1];
    o[j][3] *= alpha[1];
  }
}

// o += P V for kN * 8 keys (tile rows 0..8 kN), P = s after OnlineSoftmax.
template <typename T, int kD, int kN>
__device__ __forceinline__ void PV(float (&o)[kD / 8][4], const float (&s)[kN][4], const T* vs,
                                   int lane) {
#pragma unroll
  for (int kk = 0; kk < kN / 2; ++kk) {
    const uint32_t pa[4] = {
        mma::Pack2<T>(s[2 * kk][0], s[2 * kk][1]), mma::Pack2<T>(s[2 * kk][2], s[2 * kk][3]),
        mma::Pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
        mma::Pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
    for (int j = 0; j < kD / 16; ++j) {
      uint32_t r[4];
      mma::LdMatrixX4Trans(r, vs + mma::Swz<kD>(16 * kk + ((lane >> 3) & 1) * 8 + (lane & 7),
                                                2 * j + (lane >> 4)));
      mma::Mma16816<T>(o[2 * j], pa, r[0], r[1]);
      mma::Mma16816<T>(o[2 * j + 1], pa, r[2], r[3]);
    }
  }
}

// Completes the row sums: the four threads of a row each hold part of it.
__device__ __forceinline__ void QuadSum(float (&l)[2]) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
  }
}

// Q rows as A fragments: q_lo / q_hi point at element 2 (lane % 4) of rows g and g + 8 (null:
// a padding row of zeros).
template <typename T, int kD>
__device__ __forceinline__ void LoadQ(uint32_t (&qa)[kD / 16][4], const T* q_lo, const T* q_hi) {
#pragma unroll
  for (int k = 0; k < kD / 16; ++k) {
    qa[k][0] = q_lo ? mma::Load2(q_lo + 16 * k) : 0u;
    qa[k][1] = q_hi ? mma::Load2(q_hi + 16 * k) : 0u;
    qa[k][2] = q_lo ? mma::Load2(q_lo + 16 * k + 8) : 0u;
    qa[k][3] = q_hi ? mma::Load2(q_hi + 16 * k + 8) : 0u;
  }
}

}  // namespace pagellm::cuda::attn

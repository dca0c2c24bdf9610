// Pieces shared by the attention kernels that stage K/V tiles from the paged cache
// (attention_decode_tiled.cu, attention_prefill_mma.cu) and by every decode kernel's epilogue.
#pragma once

#include <type_traits>

#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"
#include "backends/cuda/mma_utils.cuh"

namespace pagellm::cuda::kernels {

// Calls f(std::integral_constant<int, kD>{}) for the kD in kDs equal to head_dim;
// cudaErrorInvalidValue when none is.
template <int... kDs, typename F>
cudaError_t WithHeadDim(int head_dim, F&& f) {
  cudaError_t err = cudaErrorInvalidValue;
  (void)((head_dim == kDs ? (err = f(std::integral_constant<int, kDs>{}), true) : false) || ...);
  return err;
}

// Calls f(__half{}) or f(__nv_bfloat16{}) for a 16-bit float dtype; cudaErrorInvalidValue else.
template <typename F>
cudaError_t WithHalfType(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF16:
      return f(__half{});
    case DType::kBF16:
      return f(__nv_bfloat16{});
    default:
      return cudaErrorInvalidValue;
  }
}

// What a decode CTA of grid (sequence, KV head, context split) attends to: the sequence's query
// token qs at position qpos, keys [kb, ke) (sliding window and split applied). active is false
// for a sequence that is not decoding this step (mixed batches launch every kernel over all).
struct DecodeRange {
  int seq, qs, qpos, kb, ke;
  bool active;
};
__device__ __forceinline__ DecodeRange DecodeCtaRange(const AttentionArgs& p) {
  DecodeRange r;
  r.seq = blockIdx.x;
  r.qs = p.query_start_loc[r.seq];
  r.active = p.query_start_loc[r.seq + 1] - r.qs == 1;
  r.qpos = p.seq_lens[r.seq] - 1;
  r.kb = p.window > 0 ? max(0, r.qpos - p.window + 1) : 0;
  r.ke = r.qpos + 1;
  if (p.num_splits > 1) {
    r.kb += blockIdx.z * p.split_chunk;
    r.ke = min(r.ke, r.kb + p.split_chunk);
  }
  return r;
}

// The prefill launch grid: (sequence, token tile) x (KV head, head group).
inline dim3 PrefillGrid(const AttentionArgs& p) {
  const int group = p.num_q_heads / p.num_kv_heads;
  return dim3(static_cast<unsigned>(p.num_seqs * p.tiles_per_seq),
              static_cast<unsigned>(p.num_kv_heads * (group / p.heads_per_cta)));
}

// Stages keys [key0, key0 + kKeys) of one KV head into swizzled shared tiles (ks, vs) with
// cp.async, kThreads threads sharing the 16-byte chunks; keys at or past `kend` are zero-filled.
// REQUIRES: key0 < kend; blockDim.x == kThreads divides kKeys * kD / 8.
template <typename T, int kD, int kKeys, int kThreads>
__device__ __forceinline__ void LoadPagedTile(const AttentionArgs& p, const int32_t* blocks,
                                              int kv_head, int key0, int kend, T* ks, T* vs) {
  constexpr int kCh = kD / 8;
  const int64_t kv_row = static_cast<int64_t>(p.num_kv_heads) * kD;
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
  const int bs = p.block_size;
#pragma unroll
  for (int j = 0; j < kKeys * kCh / kThreads; ++j) {
    const int c = threadIdx.x + j * kThreads, r = c / kCh, ch = c % kCh;
    const int key = key0 + r;
    const bool valid = key < kend;
    const int k = valid ? key : key0;  // a valid address to name
    const int64_t off = (static_cast<int64_t>(blocks[k / bs]) * bs + k % bs) * kv_row +
                        static_cast<int64_t>(kv_head) * kD + ch * 8;
    mma::CpAsync16(ks + mma::Swz<kD>(r, ch), kc + off, valid);
    mma::CpAsync16(vs + mma::Swz<kD>(r, ch), vc + off, valid);
  }
}

// One element of a decode result: dimension c of query head `head` of the sequence whose token
// is row qs. acc is the unnormalised sum of p * v, (m, l) the running max and sum. Without
// context splits it writes acc / l to out; with them the partial row (and, for c == 0, its
// (m, l)) that AttentionReduce merges.
template <typename T>
__device__ __forceinline__ void StoreDecode(const AttentionArgs& p, int seq, int qs, int head,
                                            int c, float acc, float m, float l) {
  if (p.num_splits > 1) {
    const int64_t row =
        (static_cast<int64_t>(seq) * p.num_q_heads + head) * p.num_splits + blockIdx.z;
    p.part_o[row * p.head_dim + c] = acc;
    if (c == 0) {
      p.part_ml[row * 2] = m;
      p.part_ml[row * 2 + 1] = l;
    }
  } else {
    T* out = static_cast<T*>(p.out) + qs * p.o_stride_t + head * p.o_stride_h;
    out[c] = FromF<T>(l > 0.f ? acc / l : 0.f);
  }
}

// The end of a decode CTA whose kWarps warps each attended to part of the keys: merges their
// (m, l, unnormalised o) from shared memory and stores the `heads` query heads from head0.
// Warp w's head h: m and l at ms/ls[w * ml_ld + h], o at os[(w * ml_ld + h) * o_ld + c].
// REQUIRES: a barrier after the warps wrote their partials.
template <typename T, int kWarps>
__device__ void MergeWarpsAndStore(const AttentionArgs& p, int seq, int qs, int head0, int heads,
                                   const float* ms, const float* ls, int ml_ld, const float* os,
                                   int o_ld) {
  const int d = p.head_dim;
  for (int i = threadIdx.x; i < heads * d; i += blockDim.x) {
    const int h = i / d, c = i % d;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, ms[w * ml_ld + h]);
    float den = 0.f, acc = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float mw = ms[w * ml_ld + h];
      if (mw == -INFINITY) continue;  // that warp saw no key
      const float f = expf(mw - mx);
      den += ls[w * ml_ld + h] * f;
      acc += os[static_cast<int64_t>(w * ml_ld + h) * o_ld + c] * f;
    }
    StoreDecode<T>(p, seq, qs, head0 + h, c, acc, mx, den);
  }
}

}  // namespace pagellm::cuda::kernels

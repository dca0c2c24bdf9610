// Tensor-core decode attention (query_len == 1) for f16/bf16 caches, head_dim 64 or 128, up to
// 16 query heads per KV head. One CTA per (sequence, KV head, context split); the group's query
// heads are the rows of a 16-row MMA tile (rows past the group are zero and never written), so
// each K/V byte is read from HBM once per step and the per-key arithmetic runs on tensor cores
// (the CUDA-core tiled kernel in attention_decode_tiled.cu is issue-bound at ~70 % of HBM
// bandwidth). The CTA's four warps take 16-key chunks in turn (warp w: chunks w, w + 4, ...),
// each with a private 3-stage cp.async pipeline, so no CTA barrier is needed until the end:
//   S = Q K^T   (ldmatrix of the swizzled K chunk, 2 x head_dim/16 MMAs)
//   online softmax on the S fragments in registers (FlashAttention-2: P never leaves registers)
//   O += P V    (ldmatrix.trans of the V chunk, head_dim/8 MMAs)
// and the four partial (m, l, O) are merged through shared memory. Splits write partials that
// AttentionReduce merges, as the other decode paths do.
#include <cmath>

#include "backends/cuda/attention_mma.cuh"
#include "backends/cuda/decode_dispatch.cuh"
#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"
#include "backends/cuda/mma_utils.cuh"
#include "backends/cuda/paged_tile.cuh"

namespace pagellm::cuda::kernels {
namespace {

using mma::CpAsync16;
using mma::CpAsyncCommit;
using mma::CpAsyncWait;
using mma::Swz;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kChunk = 16;  // keys per warp step: the k of the P V product
constexpr int kStages = 3;
constexpr int kMaxGroup = 16;

template <int kD>
constexpr size_t SmemBytes(size_t elem) {
  const size_t pipe = kWarps * kStages * 2 * kChunk * kD * elem;
  const size_t merge = sizeof(float) * kWarps * kMaxGroup * (kD + 2);
  return pipe > merge ? pipe : merge;
}

// Stages keys [key0, key0 + kChunk) of one KV head into (ks, vs) (swizzled rows of kD); rows at
// or past `ke` are zero-filled. Called by a whole warp.
template <typename T, int kD>
__device__ __forceinline__ void LoadChunk(const AttentionArgs& p, const int32_t* blocks,
                                          int kv_head, int key0, int ke, T* ks, T* vs, int lane) {
  constexpr int kCh = kD / 8;
  const int64_t kv_row = static_cast<int64_t>(p.num_kv_heads) * kD;
  int64_t my_off;  // lane r < kChunk: where key key0 + r of this head starts
  {
    const int key = key0 + (lane & (kChunk - 1));
    const int k = key < ke ? key : key0;  // key0 < ke always: a valid address to name
    my_off = (static_cast<int64_t>(blocks[k / p.block_size]) * p.block_size + k % p.block_size) *
                 kv_row +
             static_cast<int64_t>(kv_head) * kD;
  }
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
#pragma unroll
  for (int j = 0; j < kChunk * kCh / 32; ++j) {
    const int c = lane + 32 * j, r = c / kCh, ch = c % kCh;
    const int64_t off = __shfl_sync(0xffffffffu, my_off, r) + ch * 8;
    const bool valid = key0 + r < ke;
    CpAsync16(ks + Swz<kD>(r, ch), kc + off, valid);
    CpAsync16(vs + Swz<kD>(r, ch), vc + off, valid);
  }
}

template <typename T, int kD>
__global__ void __launch_bounds__(kThreads) DecodeMmaKernel(AttentionArgs p) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  const DecodeRange range = DecodeCtaRange(p);
  if (!range.active) return;
  const int seq = range.seq, qs = range.qs, qpos = range.qpos, kb = range.kb, ke = range.ke;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int kv_head = blockIdx.y, head0 = kv_head * group;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int nchunks = ke > kb ? (ke - kb + kChunk - 1) / kChunk : 0;
  const int mine = nchunks > warp ? (nchunks - 1 - warp) / kWarps + 1 : 0;
  constexpr int kStage = 2 * kChunk * kD;  // elements of one stage (K then V)
  T* wbuf = reinterpret_cast<T*>(smem_raw) + warp * kStages * kStage;
  const int32_t* blocks = p.block_indices + p.block_indptr[seq];
  auto chunk_key = [&](int i) { return kb + (warp + i * kWarps) * kChunk; };
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < mine)
      LoadChunk<T, kD>(p, blocks, kv_head, chunk_key(s), ke, wbuf + s * kStage,
                       wbuf + s * kStage + kChunk * kD, lane);
    CpAsyncCommit();
  }

  // Q as A fragments (rows g and g + 8 are query heads head0 + g, head0 + g + 8).
  uint32_t qa[kD / 16][4];
  const T* q = static_cast<const T*>(p.q) + qs * p.q_stride_t;
  const T* q_lo = q + static_cast<int64_t>(head0 + g) * p.q_stride_h + 2 * t;
  const bool lo = g < group, hi = g + 8 < group;
  attn::LoadQ<T, kD>(qa, lo ? q_lo : nullptr, hi ? q_lo + 8 * p.q_stride_h : nullptr);
  const float slope[2] = {p.alibi && lo ? p.alibi[head0 + g] : 0.f,
                          p.alibi && hi ? p.alibi[head0 + g + 8] : 0.f};

  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
  float o[kD / 8][4];
#pragma unroll
  for (int j = 0; j < kD / 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;

  for (int i = 0; i < mine; ++i) {
    __syncwarp();  // every lane is done reading the stage refilled next
    const int nxt = i + kStages - 1;
    if (nxt < mine) {
      T* st = wbuf + (nxt % kStages) * kStage;
      LoadChunk<T, kD>(p, blocks, kv_head, chunk_key(nxt), ke, st, st + kChunk * kD, lane);
    }
    CpAsyncCommit();
    CpAsyncWait<kStages - 1>();
    __syncwarp();
    const T* ks = wbuf + (i % kStages) * kStage;
    const T* vs = ks + kChunk * kD;
    const int key0 = chunk_key(i);

    float s[2][4];
    attn::QKt<T, kD, 2>(s, qa, ks, lane);
#pragma unroll
    for (int n = 0; n < 2; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = key0 + 8 * n + 2 * t + (e & 1);
        float x = s[n][e] * p.scale;
        if (p.softcap > 0.f) x = p.softcap * tanhf(x / p.softcap);
        x += slope[e >> 1] * static_cast<float>(key - qpos);
        s[n][e] = key < ke ? x : -INFINITY;
      }
    attn::OnlineSoftmax(s, m, l, o);
    attn::PV<T, kD, 2>(o, s, vs, lane);
  }
  CpAsyncWait<0>();
  attn::QuadSum(l);

  // Merge the warps' (m, l, O) through shared memory (the pipeline buffers are free now).
  __syncthreads();
  float* ms = reinterpret_cast<float*>(smem_raw);  // [kWarps][kMaxGroup]
  float* ls = ms + kWarps * kMaxGroup;             // [kWarps][kMaxGroup]
  float* os = ls + kWarps * kMaxGroup;             // [kWarps][kMaxGroup][kD]
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = g + 8 * r;
    if (row >= group) continue;
    if (t == 0) {
      ms[warp * kMaxGroup + row] = m[r];
      ls[warp * kMaxGroup + row] = l[r];
    }
    float* orow = os + (warp * kMaxGroup + row) * kD + 2 * t;
#pragma unroll
    for (int j = 0; j < kD / 8; ++j)
      *reinterpret_cast<float2*>(orow + 8 * j) = make_float2(o[j][2 * r], o[j][2 * r + 1]);
  }
  __syncthreads();
  MergeWarpsAndStore<T, kWarps>(p, seq, qs, head0, group, ms, ls, kMaxGroup, os, kD);
}

template <typename T, int kD>
cudaError_t Launch(const AttentionArgs& p, cudaStream_t stream) {
  constexpr size_t smem = SmemBytes<kD>(sizeof(T));
  static const cudaError_t attr = cudaFuncSetAttribute(
      DecodeMmaKernel<T, kD>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (attr != cudaSuccess) return attr;
  dim3 grid(static_cast<unsigned>(p.num_seqs), static_cast<unsigned>(p.num_kv_heads),
            static_cast<unsigned>(p.num_splits));
  DecodeMmaKernel<T, kD><<<grid, kThreads, smem, stream>>>(p);
  return cudaGetLastError();
}

template <typename T>
cudaError_t LaunchT(const AttentionArgs& p, cudaStream_t stream) {
  return WithHeadDim<64, 128>(p.head_dim, [&](auto d) { return Launch<T, d()>(p, stream); });
}

}  // namespace

bool AttentionDecodeMmaSupported(DType dtype, int head_dim, int group) {
  if (dtype != DType::kF16 && dtype != DType::kBF16) return false;
  if (head_dim != 64 && head_dim != 128) return false;
  return group >= 1 && group <= kMaxGroup;
}

cudaError_t AttentionDecodeMma(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  return DispatchDecode</*kAllowF32=*/false>(
      dtype, args, stream, [&](auto t) { return LaunchT<decltype(t)>(args, stream); });
}

}  // namespace pagellm::cuda::kernels

// Tensor-core prefill attention (query_len > 1) in the FlashAttention-2 style, for f16/bf16
// caches with head_dim 64 or 128. Same work split as the other prefill kernels (launched by
// LaunchPrefill in attention_ops.cc): a CTA owns up to kRows query rows (tile_tokens tokens x
// heads_per_cta heads of one KV head) of one sequence and streams that sequence's keys from the
// paged cache, kBK at a time, double-buffered with cp.async into swizzled shared tiles. Each of
// the four warps owns 16 rows and keeps everything in registers: Q fragments, S = Q K^T
// (ldmatrix + mma.sync), the online softmax on S, P as the A operand of O += P V (ldmatrix.trans
// of V), and O itself; only the K/V tiles go through shared memory. The WMMA kernel in
// attention_tc.cu (S, P and O round-tripped through shared memory) stays for other head sizes.
#include <cmath>

#include "backends/cuda/attention_mma.cuh"
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
constexpr int kRows = 16 * kWarps;  // query rows per CTA
constexpr int kBK = 64;             // keys per tile
constexpr int kStages = 2;

template <int kD>
constexpr size_t SmemBytes(size_t elem) {
  return kStages * 2 * kBK * kD * elem;
}

template <typename T, int kD>
__global__ void __launch_bounds__(kThreads) PrefillMmaKernel(AttentionArgs p) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  const int seq = blockIdx.x / p.tiles_per_seq, tile = blockIdx.x % p.tiles_per_seq;
  const int qs = p.query_start_loc[seq], qlen = p.query_start_loc[seq + 1] - qs;
  const int t0 = qs + tile * p.tile_tokens;
  if (qlen <= 1 || t0 >= qs + qlen) return;
  const int nt = min(p.tile_tokens, qs + qlen - t0);
  const int hg = p.heads_per_cta, rows = nt * hg;
  const int group = p.num_q_heads / p.num_kv_heads, chunks = group / hg;
  const int kv_head = blockIdx.y / chunks;
  const int head0 = kv_head * group + (blockIdx.y % chunks) * hg;
  const int pos0 = p.seq_lens[seq] - qlen + (t0 - qs);
  const int key_begin = p.window > 0 ? max(0, pos0 - p.window + 1) : 0, key_end = pos0 + nt;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  T* tiles = reinterpret_cast<T*>(smem_raw);  // [kStages][K, V][kBK][kD]
  constexpr int kStage = 2 * kBK * kD;
  const int32_t* blocks = p.block_indices + p.block_indptr[seq];
  const int ntiles = (key_end - key_begin + kBK - 1) / kBK;  // >= 1: key_end > key_begin
  LoadPagedTile<T, kD, kBK, kThreads>(p, blocks, kv_head, key_begin, key_end, tiles,
                                      tiles + kBK * kD);
  CpAsyncCommit();

  // This thread's two rows (g and g + 8 of the warp's 16): token, head, position, ALiBi slope.
  int qpos[2];
  float slope[2];
  bool real[2];
  uint32_t qa[kD / 16][4];
  const T* qrow[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = warp * 16 + g + 8 * r;
    real[r] = row < rows;
    const int tok = real[r] ? row / hg : 0, head = head0 + row % hg;
    qpos[r] = pos0 + tok;
    slope[r] = p.alibi && real[r] ? p.alibi[head] : 0.f;
    qrow[r] = static_cast<const T*>(p.q) + static_cast<int64_t>(t0 + tok) * p.q_stride_t +
              static_cast<int64_t>(head) * p.q_stride_h + 2 * t;
  }
  attn::LoadQ<T, kD>(qa, real[0] ? qrow[0] : nullptr, real[1] ? qrow[1] : nullptr);

  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
  float o[kD / 8][4];
#pragma unroll
  for (int j = 0; j < kD / 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;

  for (int it = 0; it < ntiles; ++it) {
    const int kb0 = key_begin + it * kBK;
    if (it + 1 < ntiles) {
      T* nx = tiles + ((it + 1) % kStages) * kStage;
      LoadPagedTile<T, kD, kBK, kThreads>(p, blocks, kv_head, kb0 + kBK, key_end, nx,
                                          nx + kBK * kD);
      CpAsyncCommit();
      CpAsyncWait<1>();
    } else {
      CpAsyncWait<0>();
    }
    __syncthreads();
    const T* ks = tiles + (it % kStages) * kStage;
    const T* vs = ks + kBK * kD;

    float s[kBK / 8][4];
    attn::QKt<T, kD, kBK / 8>(s, qa, ks, lane);
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e >> 1, key = kb0 + 8 * n + 2 * t + (e & 1);
        float x = s[n][e] * p.scale;
        if (p.softcap > 0.f) x = p.softcap * tanhf(x / p.softcap);
        x += slope[r] * static_cast<float>(key - qpos[r]);
        const bool ok =
            key < key_end && key <= qpos[r] && (p.window <= 0 || key > qpos[r] - p.window);
        s[n][e] = ok ? x : -INFINITY;
      }
    attn::OnlineSoftmax(s, m, l, o);
    attn::PV<T, kD, kBK / 8>(o, s, vs, lane);
    __syncthreads();  // iteration it + 1 refills this stage with tile it + 2
  }

  attn::QuadSum(l);
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (!real[r]) continue;
    const int row = warp * 16 + g + 8 * r;
    const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
    T* out = static_cast<T*>(p.out) + static_cast<int64_t>(t0 + row / hg) * p.o_stride_t +
             static_cast<int64_t>(head0 + row % hg) * p.o_stride_h + 2 * t;
#pragma unroll
    for (int j = 0; j < kD / 8; ++j)
      *reinterpret_cast<uint32_t*>(out + 8 * j) =
          mma::Pack2<T>(o[j][2 * r] * inv, o[j][2 * r + 1] * inv);
  }
}

template <typename T, int kD>
cudaError_t Launch(const AttentionArgs& p, cudaStream_t stream) {
  constexpr size_t smem = SmemBytes<kD>(sizeof(T));
  static const cudaError_t attr = cudaFuncSetAttribute(
      PrefillMmaKernel<T, kD>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (attr != cudaSuccess) return attr;
  PrefillMmaKernel<T, kD><<<PrefillGrid(p), kThreads, smem, stream>>>(p);
  return cudaGetLastError();
}

template <typename T>
cudaError_t LaunchT(const AttentionArgs& p, cudaStream_t stream) {
  if (p.tile_tokens * p.heads_per_cta > kRows) return cudaErrorInvalidValue;
  return WithHeadDim<64, 128>(p.head_dim, [&](auto d) { return Launch<T, d()>(p, stream); });
}

}  // namespace

int AttentionPrefillMmaRows() { return kRows; }

bool AttentionPrefillMmaSupported(DType dtype, int head_dim) {
  return (dtype == DType::kF16 || dtype == DType::kBF16) && (head_dim == 64 || head_dim == 128);
}

cudaError_t AttentionPrefillMma(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  return WithHalfType(dtype, [&](auto t) { return LaunchT<decltype(t)>(args, stream); });
}

}  // namespace pagellm::cuda::kernels

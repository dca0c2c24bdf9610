// Decode attention (query_len == 1) with everything in registers. A CTA of kWarps warps owns
// (sequence, head group of <= kMaxHeads query heads sharing one KV head, context split). Each
// lane owns kEpl = head_dim / 32 consecutive dims of q, K, V and the output; warp w walks keys
// w, w + kWarps, ... (two per step so loads overlap), computing q.k with a warp reduction and
// keeping its own running (m, l, o) per head. Warps merge through shared memory at the end;
// with splits the merged partials go to the reduce kernel of attention.cu.
#include <cmath>

#include "backends/cuda/decode_dispatch.cuh"
#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"
#include "backends/cuda/paged_tile.cuh"

namespace pagellm::cuda::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kMaxHeads = 8;
constexpr int kUnroll = 2;

// kEpl consecutive elements at p as floats; one access when the chunk is 4/8/16 bytes and
// `aligned` (the caller knows the row alignment).
template <typename T, int kEpl>
__device__ __forceinline__ void LoadChunk(const T* p, bool aligned, float (&f)[kEpl]) {
  constexpr int kBytes = kEpl * static_cast<int>(sizeof(T));
  if constexpr (kBytes == 4 || kBytes == 8 || kBytes == 16) {
    if (aligned) {
      struct alignas(kBytes) Chunk {
        T v[kEpl];
      };
      const Chunk c = *reinterpret_cast<const Chunk*>(p);
#pragma unroll
      for (int e = 0; e < kEpl; ++e) f[e] = ToF(c.v[e]);
      return;
    }
  }
#pragma unroll
  for (int e = 0; e < kEpl; ++e) f[e] = ToF(p[e]);
}

// kHeads: compile-time bound on heads_per_cta (4 or 8) so the q/o registers fit the group.
template <typename T, int kEpl, int kHeads>
__global__ void __launch_bounds__(kWarps * 32) DecodeKernel(AttentionArgs p, bool aligned) {
  const int seq = blockIdx.x;
  const int qs = p.query_start_loc[seq];
  if (p.query_start_loc[seq + 1] - qs != 1) return;
  const int hg = p.heads_per_cta, d = p.head_dim;
  const int group = p.num_q_heads / p.num_kv_heads, chunks = group / hg;
  const int kv_head = blockIdx.y / chunks;
  const int head0 = kv_head * group + (blockIdx.y % chunks) * hg;
  const int qpos = p.seq_lens[seq] - 1;
  int kb = p.window > 0 ? max(0, qpos - p.window + 1) : 0, ke = qpos + 1;
  if (p.num_splits > 1) {
    kb += blockIdx.z * p.split_chunk;
    ke = min(ke, kb + p.split_chunk);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  float q[kHeads][kEpl], o[kHeads][kEpl], m[kHeads], l[kHeads];
  const T* qrow = static_cast<const T*>(p.q) + qs * p.q_stride_t + lane * kEpl;
#pragma unroll
  for (int h = 0; h < kHeads; ++h) {
#pragma unroll
    for (int e = 0; e < kEpl; ++e) {
      q[h][e] = h < hg ? ToF(qrow[(head0 + h) * p.q_stride_h + e]) : 0.f;
      o[h][e] = 0.f;
    }
    m[h] = -INFINITY;
    l[h] = 0.f;
  }
  const int32_t* blocks = p.block_indices + p.block_indptr[seq];
  const int64_t kv_row = static_cast<int64_t>(p.num_kv_heads) * d;
  const int64_t lane_off = static_cast<int64_t>(kv_head) * d + lane * kEpl;
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
  const int bs = p.block_size;
  for (int key0 = kb + warp; key0 < ke; key0 += kWarps * kUnroll) {
    float kf[kUnroll][kEpl], vf[kUnroll][kEpl];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int key = key0 + u * kWarps;
      if (key < ke) {
        const int64_t base =
            (static_cast<int64_t>(blocks[key / bs]) * bs + key % bs) * kv_row + lane_off;
        LoadChunk<T, kEpl>(kc + base, aligned, kf[u]);
        LoadChunk<T, kEpl>(vc + base, aligned, vf[u]);
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int key = key0 + u * kWarps;
      if (key >= ke) break;  // uniform across the warp
#pragma unroll
      for (int h = 0; h < kHeads; ++h) {
        if (h >= hg) break;
        float dot = 0.f;
#pragma unroll
        for (int e = 0; e < kEpl; ++e) dot += q[h][e] * kf[u][e];
        float s = WarpSum(dot) * p.scale;
        if (p.softcap > 0.f) s = p.softcap * tanhf(s / p.softcap);
        if (p.alibi) s += p.alibi[head0 + h] * static_cast<float>(key - qpos);
        const float m_new = fmaxf(m[h], s);  // s is finite: every key here is visible
        const float alpha = expf(m[h] - m_new), pr = expf(s - m_new);
        l[h] = l[h] * alpha + pr;
#pragma unroll
        for (int e = 0; e < kEpl; ++e) o[h][e] = o[h][e] * alpha + pr * vf[u][e];
        m[h] = m_new;
      }
    }
  }
  // Merge the warps: shared [kWarps][hg] (m, l) and [kWarps][hg][d] o.
  __shared__ float sm_m[kWarps][kHeads], sm_l[kWarps][kHeads];
  __shared__ float sm_o[kWarps][kHeads][32 * kEpl];
#pragma unroll
  for (int h = 0; h < kHeads; ++h) {
    if (h < hg) {
      if (lane == 0) {
        sm_m[warp][h] = m[h];
        sm_l[warp][h] = l[h];
      }
#pragma unroll
      for (int e = 0; e < kEpl; ++e) sm_o[warp][h][lane * kEpl + e] = o[h][e];
    }
  }
  __syncthreads();
  MergeWarpsAndStore<T, kWarps>(p, seq, qs, head0, hg, &sm_m[0][0], &sm_l[0][0], kHeads,
                                &sm_o[0][0][0], 32 * kEpl);
}

template <typename T, int kEpl>
cudaError_t LaunchEpl(const AttentionArgs& p, cudaStream_t stream) {
  const int group = p.num_q_heads / p.num_kv_heads;
  // Rows of K/V start at multiples of head_dim; a lane's chunk is aligned to its own size when
  // the cache base is 16-byte aligned and kEpl is a power of two.
  const bool aligned = Aligned16(p.k_cache) && Aligned16(p.v_cache) && (kEpl & (kEpl - 1)) == 0;
  dim3 grid(static_cast<unsigned>(p.num_seqs),
            static_cast<unsigned>(p.num_kv_heads * (group / p.heads_per_cta)),
            static_cast<unsigned>(p.num_splits));
  if (p.heads_per_cta <= 4) {
    DecodeKernel<T, kEpl, 4><<<grid, kWarps * 32, 0, stream>>>(p, aligned);
  } else if constexpr (kEpl <= 4) {  // 8 heads x 8 dims would not fit the registers
    DecodeKernel<T, kEpl, kMaxHeads><<<grid, kWarps * 32, 0, stream>>>(p, aligned);
  } else {
    return cudaErrorInvalidValue;
  }
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess || p.num_splits == 1) return err;
  return cudaSuccess;
}

template <typename T>
cudaError_t LaunchT(const AttentionArgs& p, cudaStream_t stream) {
  switch (p.head_dim) {
    case 64:
      return LaunchEpl<T, 2>(p, stream);
    case 96:
      return LaunchEpl<T, 3>(p, stream);
    case 128:
      return LaunchEpl<T, 4>(p, stream);
    case 256:
      return LaunchEpl<T, 8>(p, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace

bool AttentionDecodeFastSupported(int head_dim) {
  return head_dim == 64 || head_dim == 96 || head_dim == 128 || head_dim == 256;
}
int AttentionDecodeFastMaxHeads(int head_dim) { return head_dim > 128 ? 4 : kMaxHeads; }

cudaError_t AttentionDecodeFast(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  return DispatchDecode</*kAllowF32=*/true>(dtype, args, stream, [&](auto t) {
    return LaunchT<decltype(t)>(args, stream);
  });
}

}  // namespace pagellm::cuda::kernels

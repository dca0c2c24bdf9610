// Tiled decode attention (query_len == 1) for f16/bf16 caches: one CTA per (sequence, KV head,
// context split) serves the whole query-head group of that KV head, so each K/V byte is read from
// HBM once per step. Tiles of 32 keys are staged into shared memory with cp.async (double
// buffered, zero-filled past the end), then
//   scores: warp w owns heads w, w + 4, ...; lane i scores key i of the tile against its head
//           (a 16-byte-chunk XOR swizzle keeps the row-per-lane reads free of bank conflicts);
//           the warp updates that head's running max / sum with shuffles (online softmax);
//   P·V:    each thread owns 4 consecutive output dims of one head (kItems such groups) and
//           accumulates p * V over the tile.
// The per-key work is a few instructions per thread instead of a warp reduction per key and head
// (the register kernel in attention_decode.cu), which is what kept that one at ~25% of HBM
// bandwidth. Splits write partials that AttentionReduce merges, as the other decode paths do.
#include <cmath>

#include "backends/cuda/decode_dispatch.cuh"
#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"
#include "backends/cuda/paged_tile.cuh"

namespace pagellm::cuda::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kTile = 32;  // keys per tile: one per lane in the score phase
constexpr int kStages = 2;
constexpr int kMaxGroup = 16;  // query heads per KV head: <= 4 per warp in the score phase
constexpr int kPsStride = kTile + 1;

using mma::CpAsyncCommit;
using mma::CpAsyncWait;
using mma::Swz;

template <typename T>
struct Vec8 {
  T v[8];
};
template <typename T>
struct alignas(8) Vec4 {
  T v[4];
};

template <typename T, int kD, int kItems>
__global__ void __launch_bounds__(kThreads) DecodeTiledKernel(AttentionArgs p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const DecodeRange range = DecodeCtaRange(p);
  if (!range.active) return;
  const int seq = range.seq, qs = range.qs, qpos = range.qpos, kb = range.kb, ke = range.ke;
  const int group = p.num_q_heads / p.num_kv_heads;
  const int kv_head = blockIdx.y, head0 = kv_head * group;
  T* tiles = reinterpret_cast<T*>(smem_raw);  // [kStages][K, V][kTile][kD]
  float* q_s = reinterpret_cast<float*>(tiles + kStages * 2 * kTile * kD);  // [group][kD]
  float* p_s = q_s + group * kD;                                            // [group][kPsStride]
  float* alpha_s = p_s + group * kPsStride;                                 // [group]
  float* m_s = alpha_s + group;                                             // [group]
  float* l_s = m_s + group;                                                 // [group]
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

  const T* qrow = static_cast<const T*>(p.q) + qs * p.q_stride_t;
  for (int i = tid; i < group * kD; i += kThreads)
    q_s[i] = ToF(qrow[(head0 + i / kD) * p.q_stride_h + i % kD]) * p.scale;

  const int32_t* blocks = p.block_indices + p.block_indptr[seq];
  const int ntiles = ke > kb ? (ke - kb + kTile - 1) / kTile : 0;
  if (ntiles > 0)
    LoadPagedTile<T, kD, kTile, kThreads>(p, blocks, kv_head, kb, ke, tiles, tiles + kTile * kD);
  CpAsyncCommit();

  float m_r[kMaxGroup / kWarps], l_r[kMaxGroup / kWarps];
#pragma unroll
  for (int j = 0; j < kMaxGroup / kWarps; ++j) {
    m_r[j] = -INFINITY;
    l_r[j] = 0.f;
  }
  float o[kItems][4];
#pragma unroll
  for (int j = 0; j < kItems; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) o[j][e] = 0.f;
  const int items = group * kD / 4;

  for (int t = 0; t < ntiles; ++t) {
    const int key0 = kb + t * kTile;
    T* ks = tiles + (t % kStages) * 2 * kTile * kD;
    T* vs = ks + kTile * kD;
    if (t + 1 < ntiles) {
      T* nk = tiles + ((t + 1) % kStages) * 2 * kTile * kD;
      LoadPagedTile<T, kD, kTile, kThreads>(p, blocks, kv_head, key0 + kTile, ke, nk,
                                            nk + kTile * kD);
      CpAsyncCommit();
      CpAsyncWait<1>();
    } else {
      CpAsyncWait<0>();
    }
    __syncthreads();
    // Scores and the online-softmax update, one head per warp at a time.
    const int key = key0 + lane;
#pragma unroll
    for (int j = 0; j < kMaxGroup / kWarps; ++j) {
      const int h = warp + j * kWarps;
      if (h >= group) break;
      float s = -INFINITY;
      if (key < ke) {
        const float* qh = q_s + h * kD;
        float dot = 0.f;
#pragma unroll
        for (int ch = 0; ch < kD / 8; ++ch) {
          const Vec8<T> kv = *reinterpret_cast<const Vec8<T>*>(ks + Swz<kD>(lane, ch));
          const float4 qa = *reinterpret_cast<const float4*>(qh + ch * 8);
          const float4 qb = *reinterpret_cast<const float4*>(qh + ch * 8 + 4);
          dot += qa.x * ToF(kv.v[0]) + qa.y * ToF(kv.v[1]) + qa.z * ToF(kv.v[2]) +
                 qa.w * ToF(kv.v[3]) + qb.x * ToF(kv.v[4]) + qb.y * ToF(kv.v[5]) +
                 qb.z * ToF(kv.v[6]) + qb.w * ToF(kv.v[7]);
        }
        s = dot;
        if (p.softcap > 0.f) s = p.softcap * tanhf(s / p.softcap);
        if (p.alibi) s += p.alibi[head0 + h] * static_cast<float>(key - qpos);
      }
      float tmax = s;
#pragma unroll
      for (int off = 16; off > 0; off >>= 1)
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, off));
      const float m_new = fmaxf(m_r[j], tmax);  // finite: key0 < ke
      const float pr = key < ke ? __expf(s - m_new) : 0.f;
      float sum = pr;
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
      const float alpha = __expf(m_r[j] - m_new);  // 0 on the first tile (m = -inf)
      l_r[j] = l_r[j] * alpha + sum;
      m_r[j] = m_new;
      p_s[h * kPsStride + lane] = pr;
      if (lane == 0) alpha_s[h] = alpha;
    }
    __syncthreads();
    // o = o * alpha + P · V.
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const int i = tid + j * kThreads;
      if (i >= items) break;
      const int h = i / (kD / 4), d0 = (i % (kD / 4)) * 4;
      const float a = alpha_s[h];
#pragma unroll
      for (int e = 0; e < 4; ++e) o[j][e] *= a;
      const float* ph = p_s + h * kPsStride;
#pragma unroll 8
      for (int k = 0; k < kTile; ++k) {
        const float pk = ph[k];
        const Vec4<T> v = *reinterpret_cast<const Vec4<T>*>(vs + Swz<kD>(k, d0 >> 3) + (d0 & 7));
#pragma unroll
        for (int e = 0; e < 4; ++e) o[j][e] += pk * ToF(v.v[e]);
      }
    }
    __syncthreads();  // the next iteration refills this stage
  }
  // Final (m, l) per head from the score warps to the output threads.
#pragma unroll
  for (int j = 0; j < kMaxGroup / kWarps; ++j) {
    const int h = warp + j * kWarps;
    if (h < group && lane == 0) {
      m_s[h] = m_r[j];
      l_s[h] = l_r[j];
    }
  }
  __syncthreads();
#pragma unroll
  for (int j = 0; j < kItems; ++j) {
    const int i = tid + j * kThreads;
    if (i >= items) break;
    const int h = i / (kD / 4), d0 = (i % (kD / 4)) * 4;
#pragma unroll
    for (int e = 0; e < 4; ++e)
      StoreDecode<T>(p, seq, qs, head0 + h, d0 + e, o[j][e], m_s[h], l_s[h]);
  }
}

size_t TiledSmemBytes(size_t elem, int d, int group) {
  return kStages * 2 * kTile * d * elem +
         sizeof(float) * (static_cast<size_t>(group) * (d + kPsStride + 3));
}

template <typename T, int kD, int kItems>
cudaError_t Launch(const AttentionArgs& p, cudaStream_t stream) {
  const int group = p.num_q_heads / p.num_kv_heads;
  const size_t smem = TiledSmemBytes(sizeof(T), kD, group);
  static const cudaError_t attr = cudaFuncSetAttribute(
      DecodeTiledKernel<T, kD, kItems>, cudaFuncAttributeMaxDynamicSharedMemorySize,
      static_cast<int>(TiledSmemBytes(sizeof(T), kD, kMaxGroup)));
  if (attr != cudaSuccess) return attr;
  dim3 grid(static_cast<unsigned>(p.num_seqs), static_cast<unsigned>(p.num_kv_heads),
            static_cast<unsigned>(p.num_splits));
  DecodeTiledKernel<T, kD, kItems><<<grid, kThreads, smem, stream>>>(p);
  return cudaGetLastError();
}

template <typename T, int kD>
cudaError_t LaunchD(const AttentionArgs& p, cudaStream_t stream) {
  const int items = p.num_q_heads / p.num_kv_heads * kD / 4;
  if (items <= kThreads) return Launch<T, kD, 1>(p, stream);
  if (items <= 2 * kThreads) return Launch<T, kD, 2>(p, stream);
  return Launch<T, kD, 4>(p, stream);
}

template <typename T>
cudaError_t LaunchT(const AttentionArgs& p, cudaStream_t stream) {
  return WithHeadDim<64, 128, 256>(p.head_dim, [&](auto d) { return LaunchD<T, d()>(p, stream); });
}

}  // namespace

bool AttentionDecodeTiledSupported(DType dtype, int head_dim, int group) {
  if (dtype != DType::kF16 && dtype != DType::kBF16) return false;
  if (head_dim != 64 && head_dim != 128 && head_dim != 256) return false;
  return group >= 1 && group <= kMaxGroup && group * head_dim / 4 <= 4 * kThreads;
}

cudaError_t AttentionDecodeTiled(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  return DispatchDecode</*kAllowF32=*/false>(
      dtype, args, stream, [&](auto t) { return LaunchT<decltype(t)>(args, stream); });
}

}  // namespace pagellm::cuda::kernels

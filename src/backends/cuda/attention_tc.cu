// Tensor-core prefill attention (f16/bf16, head_dim a multiple of 16 up to 128) with WMMA.
// Same work split as the prefill launch in attention.cu: a CTA owns up to kRows query rows
// (tokens x heads of one KV head), streams its sequence's keys from the paged cache kBK at a
// time, and keeps FlashAttention-2 style running (m, l, O) per row. Each warp owns 16 rows:
// S = Q K^T and O += P V run on tensor cores; the softmax of its rows runs in the same warp, so
// block barriers are needed only around the shared K/V tile loads. O stays in shared memory
// (f32) because WMMA fragments do not expose which row an element belongs to (needed for the
// per-row rescale).
#include <mma.h>

#include <cmath>

#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"
#include "backends/cuda/paged_tile.cuh"

namespace pagellm::cuda::kernels {
namespace {

using namespace nvcuda;  // NOLINT

constexpr int kRows = 64;  // query rows per CTA (4 warps x 16)
constexpr int kBK = 32;    // keys per tile
constexpr int kThreads = 128;
constexpr int kMaxD = 128;

struct TcSmem {
  int64_t* kbase;       // [kBK]
  float *m, *l, *a;     // [kRows]
  float* s;             // [kRows][kBK + 4]
  float* o;             // [kRows][d + 4]
  void *q, *k, *v, *p;  // T: q/k/v [rows][d + 8], p [kRows][kBK + 8]
};

constexpr int SLd() { return kBK + 4; }
constexpr int PLd() { return kBK + 8; }
__host__ __device__ inline int TLd(int d) { return d + 8; }
__host__ __device__ inline int OLd(int d) { return d + 4; }

template <typename T>
__device__ TcSmem Carve(unsigned char* raw, int d) {
  TcSmem sm;
  sm.kbase = reinterpret_cast<int64_t*>(raw);
  float* f = reinterpret_cast<float*>(sm.kbase + kBK);
  sm.m = f;
  f += kRows;
  sm.l = f;
  f += kRows;
  sm.a = f;
  f += kRows;
  sm.s = f;
  f += kRows * SLd();
  sm.o = f;
  f += kRows * OLd(d);
  T* t = reinterpret_cast<T*>(f);  // offsets so far are multiples of 32 bytes
  sm.q = t;
  t += kRows * TLd(d);
  sm.k = t;
  t += kBK * TLd(d);
  sm.v = t;
  t += kBK * TLd(d);
  sm.p = t;
  return sm;
}

size_t TcSmemBytes(int d, size_t tsize) {
  return kBK * sizeof(int64_t) + sizeof(float) * (3 * kRows + kRows * SLd() + kRows * OLd(d)) +
         tsize * (static_cast<size_t>(kRows + 2 * kBK) * TLd(d) + kRows * PLd());
}

template <typename T>
__device__ void LoadTile(const AttentionArgs& p, const TcSmem& sm, int n, bool vec) {
  const int d = p.head_dim, ld = TLd(d);
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
  T* ks = static_cast<T*>(sm.k);
  T* vs = static_cast<T*>(sm.v);
  constexpr int kN = 8;  // 16 bytes of a 16-bit type
  const int per_row = d / kN;
  for (int i = threadIdx.x; i < kBK * per_row; i += blockDim.x) {
    const int j = i / per_row, c = (i % per_row) * kN;
    Pack<T> kp, vp;
    if (j < n && vec) {
      kp = *reinterpret_cast<const Pack<T>*>(kc + sm.kbase[j] + c);
      vp = *reinterpret_cast<const Pack<T>*>(vc + sm.kbase[j] + c);
    } else {
#pragma unroll
      for (int e = 0; e < kN; ++e) {
        // Rows past n are zero: P is 0 there, and 0 * garbage could be NaN.
        kp.v[e] = j < n ? kc[sm.kbase[j] + c + e] : FromF<T>(0.f);
        vp.v[e] = j < n ? vc[sm.kbase[j] + c + e] : FromF<T>(0.f);
      }
    }
    // Shared rows are 16-byte aligned: ld * sizeof(T) = (d + 8) * 2, d % 16 == 0.
    *reinterpret_cast<Pack<T>*>(ks + j * ld + c) = kp;
    *reinterpret_cast<Pack<T>*>(vs + j * ld + c) = vp;
  }
}

// Softmax step for the warp's 16 rows over one key tile: P (as T), running m/l, rescale a.
template <typename T>
__device__ void WarpSoftmax(const AttentionArgs& p, const TcSmem& sm, int row0, int rows, int pos0,
                            int head0, int kb, int n) {
  const int lane = threadIdx.x & 31, hg = p.heads_per_cta;
  T* ps = static_cast<T*>(sm.p);
  for (int rr = 0; rr < 16; ++rr) {
    const int r = row0 + rr;
    const int qpos = pos0 + r / hg;
    float sc[kBK / 32];
    float mx = -INFINITY;
#pragma unroll
    for (int e = 0; e < kBK / 32; ++e) {
      const int j = lane + 32 * e, kpos = kb + j;
      float x = -INFINITY;
      if (r < rows && j < n && kpos <= qpos && (p.window <= 0 || kpos > qpos - p.window)) {
        x = sm.s[r * SLd() + j] * p.scale;
        if (p.softcap > 0.f) x = p.softcap * tanhf(x / p.softcap);
        if (p.alibi) x += p.alibi[head0 + r % hg] * static_cast<float>(kpos - qpos);
      }
      sc[e] = x;
      mx = fmaxf(mx, x);
    }
    mx = WarpMax(mx);
    const float m_old = sm.m[r], m_new = fmaxf(m_old, mx);
    float alpha = 1.f, sum = 0.f;
#pragma unroll
    for (int e = 0; e < kBK / 32; ++e) {
      const float pr = m_new == -INFINITY ? 0.f : expf(sc[e] - m_new);
      sum += pr;
      ps[r * PLd() + lane + 32 * e] = FromF<T>(pr);
    }
    if (m_new != -INFINITY) alpha = expf(m_old - m_new);
    sum = WarpSum(sum);
    __syncwarp();  // every lane has read m[r] before lane 0 updates it
    if (lane == 0) {
      sm.l[r] = sm.l[r] * alpha + sum;
      sm.m[r] = m_new;
      sm.a[r] = alpha;
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) TcKernel(AttentionArgs p, bool vec) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  // Work decode (as attention.cu's prefill launch): sequence, token tile, head group.
  const int seq = blockIdx.x / p.tiles_per_seq, tile = blockIdx.x % p.tiles_per_seq;
  const int qs = p.query_start_loc[seq], qlen = p.query_start_loc[seq + 1] - qs;
  const int t0 = qs + tile * p.tile_tokens;
  if (qlen <= 1 || t0 >= qs + qlen) return;
  const int nt = min(p.tile_tokens, qs + qlen - t0);
  const int hg = p.heads_per_cta, d = p.head_dim, rows = nt * hg;
  const int group = p.num_q_heads / p.num_kv_heads, chunks = group / hg;
  const int kv_head = blockIdx.y / chunks;
  const int head0 = kv_head * group + (blockIdx.y % chunks) * hg;
  const int pos0 = p.seq_lens[seq] - qlen + (t0 - qs);
  const int key_begin = p.window > 0 ? max(0, pos0 - p.window + 1) : 0, key_end = pos0 + nt;
  const TcSmem sm = Carve<T>(smem_raw, d);
  T* qsm = static_cast<T*>(sm.q);
  const T* q = static_cast<const T*>(p.q);
  for (int i = threadIdx.x; i < kRows * d; i += blockDim.x) {
    const int r = i / d, c = i % d;
    qsm[r * TLd(d) + c] =
        r < rows ? q[(t0 + r / hg) * p.q_stride_t + (head0 + r % hg) * p.q_stride_h + c]
                 : FromF<T>(0.f);
    sm.o[r * OLd(d) + c] = 0.f;
  }
  for (int r = threadIdx.x; r < kRows; r += blockDim.x) {
    sm.m[r] = -INFINITY;
    sm.l[r] = 0.f;
  }
  const int warp = threadIdx.x >> 5, row0 = warp * 16;
  const int32_t* blocks = p.block_indices + p.block_indptr[seq];
  const int64_t kv_row = static_cast<int64_t>(p.num_kv_heads) * d;
  const int bs = p.block_size;
  for (int kb = key_begin; kb < key_end; kb += kBK) {
    const int n = min(kBK, key_end - kb);
    __syncthreads();  // the previous tile's K/V are no longer read
    if (threadIdx.x < n) {
      const int pos = kb + threadIdx.x;
      sm.kbase[threadIdx.x] = (static_cast<int64_t>(blocks[pos / bs]) * bs + pos % bs) * kv_row +
                              static_cast<int64_t>(kv_head) * d;
    }
    __syncthreads();
    LoadTile<T>(p, sm, n, vec);
    __syncthreads();
    if (row0 >= rows) continue;  // this warp's rows are all padding (barriers stay uniform)
    // S[16 x kBK] = Q[16 x d] K^T.
    for (int c = 0; c < kBK / 16; ++c) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int dk = 0; dk < d; dk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b;
        wmma::load_matrix_sync(a, qsm + row0 * TLd(d) + dk, TLd(d));
        wmma::load_matrix_sync(b, static_cast<const T*>(sm.k) + c * 16 * TLd(d) + dk, TLd(d));
        wmma::mma_sync(acc, a, b, acc);
      }
      wmma::store_matrix_sync(sm.s + row0 * SLd() + c * 16, acc, SLd(), wmma::mem_row_major);
    }
    __syncwarp();
    WarpSoftmax<T>(p, sm, row0, rows, pos0, head0, kb, n);
    __syncwarp();
    for (int rr = 0; rr < 16; ++rr) {
      const float alpha = sm.a[row0 + rr];
      for (int c = threadIdx.x & 31; c < d; c += 32) sm.o[(row0 + rr) * OLd(d) + c] *= alpha;
    }
    __syncwarp();
    // O[16 x d] += P[16 x kBK] V[kBK x d].
    for (int dc = 0; dc < d; dc += 16) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      float* o = sm.o + row0 * OLd(d) + dc;
      wmma::load_matrix_sync(acc, o, OLd(d), wmma::mem_row_major);
      for (int kk = 0; kk < kBK; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b;
        wmma::load_matrix_sync(a, static_cast<const T*>(sm.p) + row0 * PLd() + kk, PLd());
        wmma::load_matrix_sync(b, static_cast<const T*>(sm.v) + kk * TLd(d) + dc, TLd(d));
        wmma::mma_sync(acc, a, b, acc);
      }
      wmma::store_matrix_sync(o, acc, OLd(d), wmma::mem_row_major);
    }
    __syncwarp();
  }
  __syncthreads();
  T* out = static_cast<T*>(p.out);
  for (int i = threadIdx.x; i < rows * d; i += blockDim.x) {
    const int r = i / d, c = i % d;
    const float l = sm.l[r];
    out[(t0 + r / hg) * p.o_stride_t + (head0 + r % hg) * p.o_stride_h + c] =
        FromF<T>(l > 0.f ? sm.o[r * OLd(d) + c] / l : 0.f);
  }
}

template <typename T>
cudaError_t Launch(const AttentionArgs& p, cudaStream_t stream) {
  const size_t smem = TcSmemBytes(p.head_dim, sizeof(T));
  cudaError_t err = cudaFuncSetAttribute(TcKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem));
  if (err != cudaSuccess) return err;
  const bool vec = Aligned16(p.k_cache) && Aligned16(p.v_cache);
  TcKernel<T><<<PrefillGrid(p), kThreads, smem, stream>>>(p, vec);
  return cudaGetLastError();
}

}  // namespace

int AttentionTcRows() { return kRows; }

size_t AttentionTcSmemBytes(DType dtype, int head_dim) {
  if ((dtype != DType::kF16 && dtype != DType::kBF16) || head_dim % 16 || head_dim > kMaxD)
    return 0;
  return TcSmemBytes(head_dim, 2);
}

cudaError_t AttentionPrefillTC(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  return WithHalfType(dtype, [&](auto t) { return Launch<decltype(t)>(args, stream); });
}

}  // namespace pagellm::cuda::kernels

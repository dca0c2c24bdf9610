// Paged attention over a [num_blocks, block_size, Hk, D] cache with a CSR page table.
//
// One kernel, two launches. A CTA owns `rows` = tokens x heads query rows that share one KV head
// (GQA: the group's heads reuse every K/V tile), streams the keys of its sequence in tiles of
// kTK through shared memory and keeps an online softmax (running max m, sum l, output o) per row.
// - Decode launch: one CTA per (sequence with query_len 1, head group, split); splits cut the
//   context into chunks (flash-decoding) and a reduce kernel merges the partial (o, m, l).
// - Prefill launch: one CTA per (tile of up to tile_tokens query tokens of a sequence with
//   query_len > 1, head group); causal masking per row, keys read from the paged cache so
//   chunked prefill and prefix-cache hits need nothing special.
// Everything is f32 in shared memory: simple and exact first; tensor cores are a later step.
#include <cmath>

#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"

namespace pagellm::cuda::kernels {
namespace {

constexpr int kTK = 32;  // keys per tile == warp size (the softmax step maps one key per lane)
constexpr int kThreads = 128;

struct Smem {
  int64_t* kbase;  // [kTK] element offset of each key's row in the cache
  float *q, *o, *k, *v, *s, *m, *l, *a;
};

__device__ Smem CarveSmem(unsigned char* raw, int rows, int d) {
  Smem sm;
  sm.kbase = reinterpret_cast<int64_t*>(raw);
  float* f = reinterpret_cast<float*>(sm.kbase + kTK);
  sm.q = f;
  f += rows * d;
  sm.o = f;
  f += rows * d;
  sm.k = f;
  f += kTK * (d + 1);  // +1: conflict-free column reads in the score loop
  sm.v = f;
  f += kTK * d;
  sm.s = f;
  f += rows * kTK;
  sm.m = f;
  f += rows;
  sm.l = f;
  f += rows;
  sm.a = f;
  return sm;
}

// The CTA's work item, decoded from blockIdx. Returns false when the CTA has nothing to do.
struct Work {
  int seq, t0, nt, pos0, kv_head, head0, split, key_begin, key_end;
};

__device__ bool DecodeWork(const AttentionArgs& p, bool decode, Work& w) {
  int tile = 0;
  w.seq = decode ? blockIdx.x : blockIdx.x / p.tiles_per_seq;
  if (!decode) tile = blockIdx.x % p.tiles_per_seq;
  const int qs = p.query_start_loc[w.seq];
  const int qlen = p.query_start_loc[w.seq + 1] - qs;
  if (decode ? qlen != 1 : qlen <= 1) return false;
  w.t0 = qs + tile * p.tile_tokens;
  if (w.t0 >= qs + qlen) return false;
  w.nt = decode ? 1 : min(p.tile_tokens, qs + qlen - w.t0);
  w.pos0 = p.seq_lens[w.seq] - qlen + (w.t0 - qs);
  const int group = p.num_q_heads / p.num_kv_heads;
  const int chunks = group / p.heads_per_cta;
  w.kv_head = blockIdx.y / chunks;
  w.head0 = w.kv_head * group + (blockIdx.y % chunks) * p.heads_per_cta;
  const int lo = p.window > 0 ? max(0, w.pos0 - p.window + 1) : 0;
  const int hi = w.pos0 + w.nt;  // exclusive: the last token attends to itself
  w.split = decode ? blockIdx.z : 0;
  w.key_begin = lo;
  w.key_end = hi;
  if (decode && p.num_splits > 1) {
    w.key_begin = lo + w.split * p.split_chunk;
    w.key_end = min(hi, w.key_begin + p.split_chunk);
  }
  return true;
}

template <typename T>
__device__ void LoadKV(const AttentionArgs& p, const Smem& sm, int n, bool vec) {
  const int d = p.head_dim;
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
  if (vec) {
    constexpr int kN = Pack<T>::kN;
    const int per_row = d / kN;
    for (int i = threadIdx.x; i < n * per_row; i += blockDim.x) {
      const int j = i / per_row, c = (i % per_row) * kN;
      float kf[kN], vf[kN];
      LoadPack(kc + sm.kbase[j] + c, kf);
      LoadPack(vc + sm.kbase[j] + c, vf);
#pragma unroll
      for (int e = 0; e < kN; ++e) {
        sm.k[j * (d + 1) + c + e] = kf[e];
        sm.v[j * d + c + e] = vf[e];
      }
    }
  } else {
    for (int i = threadIdx.x; i < n * d; i += blockDim.x) {
      const int j = i / d, c = i % d;
      sm.k[j * (d + 1) + c] = ToF(kc[sm.kbase[j] + c]);
      sm.v[j * d + c] = ToF(vc[sm.kbase[j] + c]);
    }
  }
}

__device__ void Scores(const AttentionArgs& p, const Smem& sm, const Work& w, int rows, int kb,
                       int n) {
  const int d = p.head_dim, hg = p.heads_per_cta;
  for (int i = threadIdx.x; i < rows * kTK; i += blockDim.x) {
    const int r = i / kTK, j = i % kTK;
    const int kpos = kb + j, qpos = w.pos0 + r / hg;
    float sc = -INFINITY;
    if (j < n && kpos <= qpos && (p.window <= 0 || kpos > qpos - p.window)) {
      const float* qr = sm.q + r * d;
      const float* kr = sm.k + j * (d + 1);
      float dot = 0.f;
      for (int c = 0; c < d; ++c) dot += qr[c] * kr[c];
      sc = dot * p.scale;
      if (p.softcap > 0.f) sc = p.softcap * tanhf(sc / p.softcap);
      if (p.alibi) sc += p.alibi[w.head0 + r % hg] * static_cast<float>(kpos - qpos);
    }
    sm.s[r * kTK + j] = sc;
  }
}

// One warp per row: new running max, probabilities in place of scores, rescale factor a.
__device__ void OnlineSoftmax(const Smem& sm, int rows) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  for (int r = warp; r < rows; r += nwarps) {
    const float v = sm.s[r * kTK + lane];
    const float m_old = sm.m[r];
    const float m_new = fmaxf(m_old, WarpMax(v));
    float prob = 0.f, alpha = 1.f;
    if (m_new != -INFINITY) {
      prob = expf(v - m_new);
      alpha = expf(m_old - m_new);
    }
    const float sum = WarpSum(prob);
    sm.s[r * kTK + lane] = prob;
    __syncwarp();  // every lane has read m[r] / l[r] before lane 0 updates them
    if (lane == 0) {
      sm.l[r] = sm.l[r] * alpha + sum;
      sm.m[r] = m_new;
      sm.a[r] = alpha;
    }
  }
}

template <typename T>
__device__ void WriteOut(const AttentionArgs& p, const Smem& sm, const Work& w, int rows,
                         bool partial) {
  const int d = p.head_dim, hg = p.heads_per_cta, s = p.num_splits;
  for (int i = threadIdx.x; i < rows * d; i += blockDim.x) {
    const int r = i / d, c = i % d;
    const int head = w.head0 + r % hg, tok = w.t0 + r / hg;
    if (partial) {
      p.part_o[((static_cast<int64_t>(w.seq) * p.num_q_heads + head) * s + w.split) * d + c] =
          sm.o[i];
    } else {
      const float l = sm.l[r];
      T* out = static_cast<T*>(p.out) + tok * p.o_stride_t + head * p.o_stride_h;
      out[c] = FromF<T>(l > 0.f ? sm.o[i] / l : 0.f);
    }
  }
  if (partial) {
    for (int r = threadIdx.x; r < rows; r += blockDim.x) {
      const int head = w.head0 + r % hg;
      float* ml =
          p.part_ml + ((static_cast<int64_t>(w.seq) * p.num_q_heads + head) * s + w.split) * 2;
      ml[0] = sm.m[r];
      ml[1] = sm.l[r];
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    AttentionKernel(AttentionArgs p, bool decode, bool vec) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  Work w;
  if (!DecodeWork(p, decode, w)) return;
  const int d = p.head_dim, hg = p.heads_per_cta, rows = w.nt * hg;
  const Smem sm = CarveSmem(smem_raw, rows, d);
  const T* q = static_cast<const T*>(p.q);
  for (int i = threadIdx.x; i < rows * d; i += blockDim.x) {
    const int r = i / d, c = i % d;
    sm.q[i] = ToF(q[(w.t0 + r / hg) * p.q_stride_t + (w.head0 + r % hg) * p.q_stride_h + c]);
    sm.o[i] = 0.f;
  }
  for (int r = threadIdx.x; r < rows; r += blockDim.x) {
    sm.m[r] = -INFINITY;
    sm.l[r] = 0.f;
  }
  const int32_t* blocks = p.block_indices + p.block_indptr[w.seq];
  const int64_t kv_row = static_cast<int64_t>(p.num_kv_heads) * d;
  const int bs = p.block_size;
  for (int kb = w.key_begin; kb < w.key_end; kb += kTK) {
    const int n = min(kTK, w.key_end - kb);
    __syncthreads();  // previous tile fully consumed (and q/o/m/l initialised on entry)
    if (threadIdx.x < n) {
      const int pos = kb + threadIdx.x;
      sm.kbase[threadIdx.x] = (static_cast<int64_t>(blocks[pos / bs]) * bs + pos % bs) * kv_row +
                              static_cast<int64_t>(w.kv_head) * d;
    }
    __syncthreads();
    LoadKV<T>(p, sm, n, vec);
    __syncthreads();
    Scores(p, sm, w, rows, kb, n);
    __syncthreads();
    OnlineSoftmax(sm, rows);
    __syncthreads();
    for (int i = threadIdx.x; i < rows * d; i += blockDim.x) {
      const int r = i / d, c = i % d;
      float acc = sm.o[i] * sm.a[r];
      const float* pr = sm.s + r * kTK;
      for (int j = 0; j < n; ++j) acc += pr[j] * sm.v[j * d + c];
      sm.o[i] = acc;
    }
  }
  __syncthreads();
  WriteOut<T>(p, sm, w, rows, decode && p.num_splits > 1);
}

// Merges the decode splits: out = sum_z o_z e^(m_z - M) / sum_z l_z e^(m_z - M).
template <typename T>
__global__ void ReduceKernel(AttentionArgs p) {
  const int seq = blockIdx.x, head = blockIdx.y, s = p.num_splits, d = p.head_dim;
  const int t = p.query_start_loc[seq];
  if (p.query_start_loc[seq + 1] - t != 1) return;
  const int64_t base = static_cast<int64_t>(seq) * p.num_q_heads + head;
  const float* ml = p.part_ml + base * s * 2;
  float mx = -INFINITY;
  for (int z = 0; z < s; ++z) mx = fmaxf(mx, ml[2 * z]);
  float denom = 0.f;
  for (int z = 0; z < s; ++z)
    if (ml[2 * z] != -INFINITY) denom += ml[2 * z + 1] * expf(ml[2 * z] - mx);
  T* out = static_cast<T*>(p.out) + t * p.o_stride_t + head * p.o_stride_h;
  for (int c = threadIdx.x; c < d; c += blockDim.x) {
    float acc = 0.f;
    for (int z = 0; z < s; ++z)
      if (ml[2 * z] != -INFINITY) acc += p.part_o[(base * s + z) * d + c] * expf(ml[2 * z] - mx);
    out[c] = FromF<T>(denom > 0.f ? acc / denom : 0.f);
  }
}

template <typename T>
cudaError_t LaunchReduce(const AttentionArgs& p, cudaStream_t stream) {
  dim3 rgrid(static_cast<unsigned>(p.num_seqs), static_cast<unsigned>(p.num_q_heads));
  ReduceKernel<T><<<rgrid, p.head_dim >= 128 ? 128 : 64, 0, stream>>>(p);
  return cudaGetLastError();
}

bool VecOk(DType dtype, const AttentionArgs& p) {
  const int n = 16 / static_cast<int>(DTypeSize(dtype));
  return p.head_dim % n == 0 && Aligned16(p.k_cache) && Aligned16(p.v_cache);
}

template <typename T>
cudaError_t Launch(const AttentionArgs& p, bool decode, cudaStream_t stream) {
  const int group = p.num_q_heads / p.num_kv_heads;
  const int rows = (decode ? 1 : p.tile_tokens) * p.heads_per_cta;
  const size_t smem = AttentionSmemBytes(rows, p.head_dim);
  cudaError_t err = cudaFuncSetAttribute(
      AttentionKernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (err != cudaSuccess) return err;
  const unsigned gy = static_cast<unsigned>(p.num_kv_heads * (group / p.heads_per_cta));
  const bool vec = VecOk(sizeof(T) == 4 ? DType::kF32 : DType::kF16, p);
  if (decode) {
    dim3 grid(static_cast<unsigned>(p.num_seqs), gy, static_cast<unsigned>(p.num_splits));
    AttentionKernel<T><<<grid, kThreads, smem, stream>>>(p, true, vec);
    if ((err = cudaGetLastError()) != cudaSuccess || p.num_splits == 1) return err;
    return LaunchReduce<T>(p, stream);
  } else {
    dim3 grid(static_cast<unsigned>(p.num_seqs * p.tiles_per_seq), gy);
    AttentionKernel<T><<<grid, kThreads, smem, stream>>>(p, false, vec);
  }
  return cudaGetLastError();
}

cudaError_t Dispatch(DType dtype, const AttentionArgs& p, bool decode, cudaStream_t stream) {
  switch (dtype) {
    case DType::kF32:
      return Launch<float>(p, decode, stream);
    case DType::kF16:
      return Launch<__half>(p, decode, stream);
    case DType::kBF16:
      return Launch<__nv_bfloat16>(p, decode, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace

size_t AttentionSmemBytes(int rows, int head_dim) {
  const size_t floats = 2 * static_cast<size_t>(rows) * head_dim + kTK * (head_dim + 1) +
                        static_cast<size_t>(kTK) * head_dim + static_cast<size_t>(rows) * kTK +
                        3 * static_cast<size_t>(rows);
  return kTK * sizeof(int64_t) + floats * sizeof(float);
}

cudaError_t AttentionReduce(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  switch (dtype) {
    case DType::kF32:
      return LaunchReduce<float>(args, stream);
    case DType::kF16:
      return LaunchReduce<__half>(args, stream);
    case DType::kBF16:
      return LaunchReduce<__nv_bfloat16>(args, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t AttentionPrefill(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  return Dispatch(dtype, args, false, stream);
}
cudaError_t AttentionDecode(DType dtype, const AttentionArgs& args, cudaStream_t stream) {
  return Dispatch(dtype, args, true, stream);
}

}  // namespace pagellm::cuda::kernels

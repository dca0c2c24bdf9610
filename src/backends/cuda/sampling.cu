// One CTA per row. Thresholds are found in the temperature-scaled logit space x' = x / T, where
// every filter of the CPU sampler keeps a set {x' >= threshold} (up to ties): min_p keeps
// x' >= max + log(min_p); top_k keeps x' >= the k-th largest; top_p keeps the smallest top set
// with mass >= top_p. k-th values and the top-p cut are found by a radix search over the
// order-preserving integer image of the floats (32 passes over the row, each a block reduction).
#include <cfloat>
#include <cmath>

#include "backends/cuda/device_utils.cuh"
#include "backends/cuda/kernels.h"

namespace pagellm::cuda {
namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ uint32_t Key(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float Unkey(uint32_t k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

struct Row {
  const void* p;
  DType t;
  int64_t n;
  float t_div;                            // temperature (the CPU divides: same rounding)
  __device__ float At(int64_t i) const {  // x' (NaN read as -inf)
    float v = t == DType::kF32   ? static_cast<const float*>(p)[i]
              : t == DType::kF16 ? __half2float(static_cast<const __half*>(p)[i])
                                 : __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    return isnan(v) ? -INFINITY : (t_div == 1.f ? v : v / t_div);
  }
};

__device__ float BlockMax(float v, float* scratch) {
  v = WarpMax(v);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  float t = (threadIdx.x & 31) < (blockDim.x >> 5) ? scratch[threadIdx.x & 31] : -INFINITY;
  return WarpMax(t);
}

__device__ double BlockSumD(double v, double* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  double t = (threadIdx.x & 31) < (blockDim.x >> 5) ? scratch[threadIdx.x & 31] : 0.0;
  for (int o = 16; o > 0; o >>= 1) t += __shfl_xor_sync(0xffffffffu, t, o);
  return t;
}

// Lowest index of the maximum (NaN ignored).
__device__ int64_t BlockArgmax(const Row& r, float* fs, int64_t* is) {
  float best = -INFINITY;
  int64_t idx = INT64_MAX;
  for (int64_t i = threadIdx.x; i < r.n; i += blockDim.x) {
    const float v = r.At(i);
    if (v > best || (v == best && idx == INT64_MAX)) best = v, idx = i;
  }
  for (int o = 16; o > 0; o >>= 1) {
    const float ob = __shfl_xor_sync(0xffffffffu, best, o);
    const int64_t oi = __shfl_xor_sync(0xffffffffu, idx, o);
    if (ob > best || (ob == best && oi < idx)) best = ob, idx = oi;
  }
  __syncthreads();
  if ((threadIdx.x & 31) == 0) fs[threadIdx.x >> 5] = best, is[threadIdx.x >> 5] = idx;
  __syncthreads();
  if (threadIdx.x < 32) {
    const bool in = threadIdx.x < (blockDim.x >> 5);
    best = in ? fs[threadIdx.x] : -INFINITY;
    idx = in ? is[threadIdx.x] : INT64_MAX;
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int64_t oi = __shfl_xor_sync(0xffffffffu, idx, o);
      if (ob > best || (ob == best && oi < idx)) best = ob, idx = oi;
    }
    if (threadIdx.x == 0) is[0] = idx == INT64_MAX ? 0 : idx;
  }
  __syncthreads();
  const int64_t out = is[0];
  __syncthreads();
  return out;
}

// Largest key K with f(K) >= target, for f non-increasing in K; f(K) = sum over kept tokens
// with Key(x') >= K of weight(x'). count=true: weight 1, else expf(x' - mx) (the same f32
// weights as every other pass, summed in f64, so the passes agree with each other).
__device__ uint32_t RadixSearch(const Row& r, float floor_x, float mx, bool count, double target,
                                double* ds) {
  uint32_t k = 0;
  for (int bit = 31; bit >= 0; --bit) {
    const uint32_t cand = k | (1u << bit);
    double acc = 0;
    for (int64_t i = threadIdx.x; i < r.n; i += blockDim.x) {
      const float x = r.At(i);
      if (x >= floor_x && Key(x) >= cand) acc += count ? 1.0 : double(expf(x - mx));
    }
    if (BlockSumD(acc, ds) >= target) k = cand;
  }
  return k;
}

__global__ void __launch_bounds__(kThreads)
    SampleKernel(const void* logits, DType dt, int64_t ld, int64_t vocab,
                 const GpuSamplingRow* params, int32_t* out_ids, float* out_logprobs) {
  __shared__ float fs[32];
  __shared__ int64_t is[32];
  __shared__ double ds[32];
  const GpuSamplingRow pr = params[blockIdx.x];
  const int64_t es = dt == DType::kF32 ? 4 : 2;
  const char* base = static_cast<const char*>(logits) + blockIdx.x * ld * es;
  const Row raw{base, dt, vocab, 1.f};
  int64_t token;
  if (pr.temperature < 1e-5f) {
    token = BlockArgmax(raw, fs, is);
  } else {
    const Row r{base, dt, vocab, pr.temperature};
    float mx = -INFINITY;
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) mx = fmaxf(mx, r.At(i));
    mx = BlockMax(mx, fs);
    float floor_x = -FLT_MAX;  // kept: x' >= floor_x (and finite)
    if (pr.min_p > 0.f) floor_x = fmaxf(floor_x, mx + logf(pr.min_p));
    if (pr.top_k > 0 && pr.top_k < vocab) {
      // K == 0: fewer than top_k tokens survive min_p, nothing more to cut.
      const uint32_t k = RadixSearch(r, floor_x, mx, true, pr.top_k, ds);
      if (k != 0) floor_x = fmaxf(floor_x, Unkey(k));
    }
    if (pr.top_p < 1.f) {
      double total = 0;
      for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
        const float x = r.At(i);
        if (x >= floor_x) total += double(expf(x - mx));
      }
      total = BlockSumD(total, ds);
      const uint32_t k = RadixSearch(r, floor_x, mx, false, pr.top_p * total, ds);
      if (k != 0) floor_x = fmaxf(floor_x, Unkey(k));
    }
    // Inverse CDF in index order over the kept tokens, in chunks of blockDim.x.
    double total = 0;
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
      const float x = r.At(i);
      if (x >= floor_x) total += double(expf(x - mx));
    }
    total = BlockSumD(total, ds);
    const double target = pr.u * total;
    double carried = 0;
    token = -1;
    for (int64_t c0 = 0; c0 < vocab && token < 0; c0 += blockDim.x) {
      const int64_t i = c0 + threadIdx.x;
      const float x = i < vocab ? r.At(i) : -INFINITY;
      const double w = x >= floor_x ? double(expf(x - mx)) : 0.0;
      // Inclusive scan over the chunk: warp scan, then warp totals.
      double s = w;
      for (int o = 1; o < 32; o <<= 1) {
        const double y = __shfl_up_sync(0xffffffffu, s, o);
        if ((threadIdx.x & 31) >= o) s += y;
      }
      __syncthreads();
      if ((threadIdx.x & 31) == 31) ds[threadIdx.x >> 5] = s;
      __syncthreads();
      double before = carried;
      for (int wi = 0; wi < static_cast<int>(threadIdx.x >> 5); ++wi) before += ds[wi];
      double chunk = 0;
      for (int wi = 0; wi < static_cast<int>(blockDim.x >> 5); ++wi) chunk += ds[wi];
      const bool hit = w > 0 && before + s > target;
      is[0] = INT64_MAX;
      __syncthreads();
      if (hit)
        atomicMin(reinterpret_cast<unsigned long long*>(&is[0]),
                  static_cast<unsigned long long>(i));
      __syncthreads();
      if (is[0] != INT64_MAX) token = is[0];
      carried += chunk;
      __syncthreads();
    }
    if (token < 0) {  // rounding with u close to 1: the last kept token
      int64_t last = -1;
      for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x)
        if (r.At(i) >= floor_x) last = i;
      for (int o = 16; o > 0; o >>= 1) {
        const int64_t ol = __shfl_xor_sync(0xffffffffu, last, o);
        last = ol > last ? ol : last;
      }
      __syncthreads();
      if ((threadIdx.x & 31) == 0) is[threadIdx.x >> 5] = last;
      __syncthreads();
      last = -1;
      for (int wi = 0; wi < static_cast<int>(blockDim.x >> 5); ++wi)
        last = is[wi] > last ? is[wi] : last;
      token = last < 0 ? 0 : last;
    }
  }
  if (out_logprobs) {
    float mx = -INFINITY;
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) mx = fmaxf(mx, raw.At(i));
    mx = BlockMax(mx, fs);
    double sum = 0;
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) sum += exp(double(raw.At(i)) - mx);
    sum = BlockSumD(sum, ds);
    if (threadIdx.x == 0)
      out_logprobs[blockIdx.x] = static_cast<float>(double(raw.At(token)) - mx - log(sum));
  }
  if (threadIdx.x == 0) out_ids[blockIdx.x] = static_cast<int32_t>(token);
}

}  // namespace

}  // namespace pagellm::cuda

namespace pagellm::cuda::kernels {

cudaError_t Sample(const void* logits, DType dtype, int64_t ld, int64_t rows, int64_t vocab,
                   const GpuSamplingRow* dev_params, int32_t* out_ids, float* out_logprobs,
                   cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  SampleKernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(
      logits, dtype, ld, vocab, dev_params, out_ids, out_logprobs);
  return cudaGetLastError();
}

}  // namespace pagellm::cuda::kernels

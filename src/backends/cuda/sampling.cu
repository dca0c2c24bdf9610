// One CTA per row. Thresholds are found in the temperature-scaled logit space x' = x / T, where
// every filter of the CPU sampler keeps a set {x' >= threshold} (up to ties): min_p keeps
// x' >= max + log(min_p); top_k keeps x' >= the k-th largest; top_p keeps the smallest top set
// with mass >= top_p. k-th values and the top-p cut are found by a radix search over the
// order-preserving integer image of the floats (11 passes over the row, one 3-bit digit each,
// with per-thread 8-bin histograms in registers). The draw is a lowest-index-first inverse CDF
// over the kept tokens: one pass sums each warp's contiguous segment, then only the warp whose
// segment holds the target scans it. Rows with edits or penalties are read from `processed`
// (sampling_prep.cu); logprobs always from the raw logits.
#include "backends/cuda/kernels.h"
#include "backends/cuda/sampling_block.cuh"

namespace pagellm::cuda {
namespace {

// The row loops are latency-bound: as many loads in flight as possible.
constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr int kDigitBits = 3;  // 8 bins held in registers (1024 threads leave 64 registers)
constexpr int kBins = 1 << kDigitBits;

struct Shared {
  float fs[32];
  int64_t is[32];
  double ds[32];
  double hist[kWarps][kBins];
  double tot[kBins];
};

__device__ __forceinline__ double WarpSumD(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Block totals of every thread's histogram; every thread receives them in h.
__device__ void BlockSumBins(double (&h)[kBins], Shared& sh) {
#pragma unroll
  for (int b = 0; b < kBins; ++b) h[b] = WarpSumD(h[b]);
  __syncthreads();  // sh.hist / sh.tot may still be read by a previous call
  if ((threadIdx.x & 31) == 0)
#pragma unroll
    for (int b = 0; b < kBins; ++b) sh.hist[threadIdx.x >> 5][b] = h[b];
  __syncthreads();
  if (threadIdx.x < kBins) {
    double t = 0;
    for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) t += sh.hist[w][threadIdx.x];
    sh.tot[threadIdx.x] = t;
  }
  __syncthreads();
#pragma unroll
  for (int b = 0; b < kBins; ++b) h[b] = sh.tot[b];
}

// Largest key K with f(K) >= target, for f non-increasing in K; f(K) = sum over kept tokens
// with Key(x') >= K of weight(x'). count=true: weight 1, else expf(x' - mx) (the same f32
// weights as every other pass, summed in f64, so the passes agree with each other). 0 when no
// K > 0 qualifies. Digit by digit from the top: `above` is the weight of the kept tokens whose
// key is above every key with the current prefix.
__device__ uint32_t RadixSearch(const Row& r, float floor_x, float mx, bool count, double target,
                                Shared& sh) {
  uint32_t prefix = 0;
  double above = 0;
  for (int top = 32; top > 0;) {  // bits [shift, top) are this pass's digit
    const int shift = top > kDigitBits ? top - kDigitBits : 0;
    const uint32_t hi = top == 32 ? 0u : (0xffffffffu << top), mask = (1u << (top - shift)) - 1;
    double h[kBins];
#pragma unroll
    for (int b = 0; b < kBins; ++b) h[b] = 0;
#pragma unroll 2
    for (int64_t i = threadIdx.x; i < r.n; i += blockDim.x) {
      const float x = r.At(i);
      const uint32_t k = Key(x);
      if (!(x >= floor_x) || (k & hi) != prefix) continue;
      const uint32_t digit = (k >> shift) & mask;
      const double w = count ? 1.0 : double(expf(x - mx));
#pragma unroll
      for (int b = 0; b < kBins; ++b) h[b] += digit == static_cast<uint32_t>(b) ? w : 0.0;
    }
    BlockSumBins(h, sh);
    int chosen = -1;
    double cum = above;
    for (int b = static_cast<int>(mask); b >= 0; --b) {
      if (cum + h[b] >= target) {
        chosen = b;
        break;
      }
      cum += h[b];
    }
    if (chosen < 0) {
      if (top == 32) return 0;  // even every kept token together falls short
      chosen = 0;               // rounding between passes: the smallest key of the prefix
      cum = above;
      for (int b = 1; b <= static_cast<int>(mask); ++b) cum += h[b];
    }
    above = cum;
    prefix |= static_cast<uint32_t>(chosen) << shift;
    top = shift;
  }
  return prefix;
}

__device__ double KeptMass(const Row& r, float floor_x, float mx, double* ds) {
  double total = 0;
#pragma unroll 2
  for (int64_t i = threadIdx.x; i < r.n; i += blockDim.x) {
    const float x = r.At(i);
    if (x >= floor_x) total += double(expf(x - mx));
  }
  return BlockSumD(total, ds);
}

// The lowest index whose inclusive cumulative kept mass exceeds u * (total kept mass), the
// total summed here as well; -1 when no token is kept.
__device__ int64_t DrawKept(const Row& r, float floor_x, float mx, double u, Shared& sh) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int64_t seg = ((r.n + nw - 1) / nw + 31) / 32 * 32;
  auto weight = [&](int64_t i, int64_t end) {
    const float x = i < end ? r.At(i) : -INFINITY;
    return x >= floor_x ? double(expf(x - mx)) : 0.0;
  };
  const int64_t b0 = warp * seg, e0 = b0 + seg < r.n ? b0 + seg : r.n;
  double acc = 0;
#pragma unroll 2
  for (int64_t i = b0 + lane; i < e0; i += 32) acc += weight(i, e0);
  acc = WarpSumD(acc);
  __syncthreads();  // sh.ds / sh.is may still be read by a previous call
  if (lane == 0) sh.ds[warp] = acc;
  __syncthreads();
  double total = 0;
  for (int w = 0; w < nw; ++w) total += sh.ds[w];
  const double target = u * total;
  double before = 0;
  int tw = -1;  // the same on every thread: the first warp whose segment passes the target
  for (int w = 0; w < nw; ++w) {
    if (sh.ds[w] > 0 && before + sh.ds[w] > target) {
      tw = w;
      break;
    }
    before += sh.ds[w];
  }
  // No segment passes when nothing is kept or u rounds onto the total: then the draw is the
  // last kept token, found in the last segment that keeps any.
  const bool passes = tw >= 0;
  for (int w = nw - 1; !passes && w >= 0 && tw < 0; --w)
    if (sh.ds[w] > 0) tw = w;
  if (warp == tw) {
    const int64_t b = tw * seg, e = b + seg < r.n ? b + seg : r.n;
    double carried = before;
    int64_t token = -1, last = -1;
    for (int64_t c0 = b; c0 < e && token < 0; c0 += 32) {
      const double w = weight(c0 + lane, e);
      double s = w;  // inclusive warp scan
      for (int o = 1; o < 32; o <<= 1) {
        const double y = __shfl_up_sync(0xffffffffu, s, o);
        if (lane >= o) s += y;
      }
      const unsigned kept = __ballot_sync(0xffffffffu, w > 0);
      if (kept) last = c0 + 31 - __clz(kept);
      const unsigned hit = __ballot_sync(0xffffffffu, w > 0 && carried + s > target);
      if (hit && passes) token = c0 + __ffs(hit) - 1;
      carried += __shfl_sync(0xffffffffu, s, 31);
    }
    if (lane == 0) sh.is[0] = token >= 0 ? token : last;
  }
  if (tw < 0 && threadIdx.x == 0) sh.is[0] = -1;
  __syncthreads();
  return sh.is[0];
}

// temperature -> min_p -> top_k -> top_p -> draw (r already divides by the temperature).
// Rows that need the radix search (top-k or top-p) run in their own launch: its histogram
// registers would halve the occupancy of the plain (greedy / temperature / min-p) rows.
__host__ __device__ inline bool NeedsRadix(const ops::SampleRowParams& pr, int64_t vocab) {
  return pr.temperature >= 1e-5 && ((pr.top_k > 0 && pr.top_k < vocab) || pr.top_p < 1);
}

template <bool kRadix>
__device__ int64_t SampleFiltered(const Row& r, const ops::SampleRowParams& pr, Shared& sh) {
  float mx = -INFINITY;
#pragma unroll 2
  for (int64_t i = threadIdx.x; i < r.n; i += blockDim.x) mx = fmaxf(mx, r.At(i));
  mx = BlockMaxF(mx, sh.fs);
  float floor_x = -FLT_MAX;  // kept: x' >= floor_x (and finite)
  if (pr.min_p > 0) floor_x = fmaxf(floor_x, mx + logf(static_cast<float>(pr.min_p)));
  if constexpr (kRadix) {
    if (pr.top_k > 0 && pr.top_k < r.n) {
      // K == 0: fewer than top_k tokens survive min_p, nothing more to cut.
      const uint32_t k = RadixSearch(r, floor_x, mx, true, pr.top_k, sh);
      if (k != 0) floor_x = fmaxf(floor_x, Unkey(k));
    }
    if (pr.top_p < 1) {
      const double total = KeptMass(r, floor_x, mx, sh.ds);
      const uint32_t k = RadixSearch(r, floor_x, mx, false, pr.top_p * total, sh);
      if (k != 0) floor_x = fmaxf(floor_x, Unkey(k));
    }
  }
  const int64_t token = DrawKept(r, floor_x, mx, pr.u, sh);
  return token >= 0 ? token : 0;
}

// Raw logprob of the token, its rank, and the top n (value desc, id asc), as the CPU computes
// them: lp(i) = float(x_i - (max + log(sum exp(x - max)))).
__device__ void WriteLogprobs(const Row& raw, int64_t row, int64_t token, int n,
                              const kernels::SampleOut& out, Shared& sh) {
  float mx = -INFINITY;
#pragma unroll 2
  for (int64_t i = threadIdx.x; i < raw.n; i += blockDim.x) mx = fmaxf(mx, raw.At(i));
  mx = BlockMaxF(mx, sh.fs);
  double sum = 0;
#pragma unroll 2
  for (int64_t i = threadIdx.x; i < raw.n; i += blockDim.x) sum += exp(double(raw.At(i)) - mx);
  const double lse = mx + log(BlockSumD(sum, sh.ds));
  auto lp = [&](int64_t i) { return static_cast<float>(double(raw.At(i)) - lse); };
  const float mine = lp(token);
  double rank = 0;
  for (int64_t i = threadIdx.x; i < raw.n; i += blockDim.x) rank += lp(i) >= mine ? 1.0 : 0.0;
  rank = BlockSumD(rank, sh.ds);
  if (threadIdx.x == 0) {
    if (out.logprobs) out.logprobs[row] = mine;
    if (out.ranks) out.ranks[row] = static_cast<int32_t>(rank);
  }
  float pv = INFINITY;
  int64_t pi = -1;
  for (int j = 0; j < n; ++j) {  // j-th best: the best pair ordered after the (j-1)-th
    float bv = -INFINITY;
    int64_t bi = INT64_MAX;
    for (int64_t i = threadIdx.x; i < raw.n; i += blockDim.x) {
      const float v = lp(i);
      if ((v < pv || (v == pv && i > pi)) && Better(v, i, bv, bi)) bv = v, bi = i;
    }
    BlockBest(bv, bi, sh.fs, sh.is);
    if (bi == INT64_MAX) break;
    if (threadIdx.x == 0) {
      out.top_ids[row * out.max_top + j] = static_cast<int32_t>(bi);
      out.top_logprobs[row * out.max_top + j] = bv;
    }
    pv = bv, pi = bi;
  }
}

template <bool kRadix>
__global__ void __launch_bounds__(kThreads, kRadix ? 1 : 2)  // plain rows: 2 CTAs per SM
    SampleKernel(const void* logits, DType dt, int64_t ld, int64_t vocab,
                 const kernels::SampleRowDev* rows, const float* processed,
                 kernels::SampleOut out) {
  __shared__ Shared sh;
  const kernels::SampleRowDev& d = rows[blockIdx.x];  // read through the cache, not registers
  const ops::SampleRowParams& pr = d.p;
  if (NeedsRadix(pr, vocab) != kRadix) return;  // the other launch's row
  const int64_t es = dt == DType::kF32 ? 4 : 2;
  const Row raw{static_cast<const char*>(logits) + blockIdx.x * ld * es, dt, vocab, 1.f};
  const Row x =
      d.prep_slot < 0 ? raw : Row{processed + d.prep_slot * vocab, DType::kF32, vocab, 1.f};
  int64_t token;
  if (pr.temperature < 1e-5) {
    float bv = -INFINITY;
    int64_t bi = INT64_MAX;
#pragma unroll 2
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
      const float v = x.At(i);
      if (v > bv) bv = v, bi = i;  // increasing i: the first of equal values stays
    }
    BlockBest(bv, bi, sh.fs, sh.is);
    token = bi == INT64_MAX ? 0 : bi;
  } else {
    Row scaled = x;
    scaled.t_div = static_cast<float>(pr.temperature);
    token = SampleFiltered<kRadix>(scaled, pr, sh);
  }
  if (pr.num_top_logprobs >= 0 && (out.logprobs || out.ranks || out.top_ids)) {
    const int64_t want = pr.num_top_logprobs < out.max_top ? pr.num_top_logprobs : out.max_top;
    const int n = out.top_ids ? static_cast<int>(want) : 0;
    WriteLogprobs(raw, blockIdx.x, token, n, out, sh);
  }
  if (threadIdx.x == 0) out.ids[blockIdx.x] = static_cast<int32_t>(token);
}

}  // namespace
}  // namespace pagellm::cuda

namespace pagellm::cuda::kernels {

bool SampleNeedsRadix(const ops::SampleRowParams& p, int64_t vocab) { return NeedsRadix(p, vocab); }

cudaError_t Sample(const void* logits, DType dtype, int64_t ld, int64_t rows, int64_t vocab,
                   const SampleRowDev* dev_rows, const ops::LogitEdit* dev_edits,
                   const int32_t* dev_appends, bool any_prep, bool any_plain, bool any_radix,
                   float* processed, int32_t* counts, const SampleOut& out, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (any_prep) {
    cudaError_t err = SamplePrep(logits, dtype, ld, rows, vocab, dev_rows, dev_edits, dev_appends,
                                 processed, counts, stream);
    if (err != cudaSuccess) return err;
  }
  const unsigned grid = static_cast<unsigned>(rows);
  if (any_plain)
    SampleKernel<false><<<grid, kThreads, 0, stream>>>(logits, dtype, ld, vocab, dev_rows,
                                                       processed, out);
  if (any_radix)
    SampleKernel<true><<<grid, kThreads, 0, stream>>>(logits, dtype, ld, vocab, dev_rows,
                                                      processed, out);
  return cudaGetLastError();
}

}  // namespace pagellm::cuda::kernels

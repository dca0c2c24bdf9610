// Micro benchmarks of the CPU backend: Linear (decode GEMV and prefill GEMM, f32 and bf16
// weights) and decode PagedAttention. Built with Google Benchmark when found, else a plain
// chrono loop that prints the same rows. Run: build/bench/cpu_ops_bench
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ops/ops.h"

#if PAGELLM_HAVE_GBENCH
#include <benchmark/benchmark.h>
#endif

namespace pagellm {
namespace {

Tensor Random(const Shape& s, DType t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(s.numel()));
  for (float& x : v) x = d(rng);
  return Tensor::FromVector(v, s, t);
}

struct LinearCase {
  const char* name;
  int64_t m, n, k;
  DType w;
  bool batch_invariant = false;
};

// Returns a callable running one Linear, plus its flop count.
std::function<void()> MakeLinear(const LinearCase& c, double* flops) {
  auto x = std::make_shared<Tensor>(Random(Shape{c.m, c.k}, DType::kF32, 1));
  auto w = std::make_shared<Tensor>(Random(Shape{c.n, c.k}, c.w, 2));
  auto y = std::make_shared<Tensor>(Tensor::EmptyHost(Shape{c.m, c.n}, DType::kF32));
  *flops = 2.0 * c.m * c.n * c.k;
  ExecCtx ctx;
  ctx.batch_invariant = c.batch_invariant;
  return [x, w, y, ctx] { CHECK_OK(ops::Linear(ctx, *x, *w, nullptr, *y)); };
}

struct DecodeAttnCase {
  const char* name;
  int seqs, context, hq, hk, d;
  DType cache;
  int query = 1;  // new tokens per sequence (the last `query` positions of its context)
};

std::function<void()> MakeDecodeAttention(const DecodeAttnCase& c, double* flops) {
  const int bs = 16, blocks_per_seq = (c.context + bs - 1) / bs;
  auto m = std::make_shared<AttentionMetadata>();
  m->num_seqs = c.seqs;
  m->num_tokens = c.seqs * c.query;
  m->block_size = bs;
  m->is_pure_decode = c.query == 1;
  m->max_seq_len = c.context;
  std::mt19937 rng(3);
  std::vector<int32_t> pool(static_cast<size_t>(c.seqs) * blocks_per_seq);
  for (size_t i = 0; i < pool.size(); ++i) pool[i] = static_cast<int32_t>(i);
  std::shuffle(pool.begin(), pool.end(), rng);
  m->query_start_loc_host.push_back(0);
  m->block_indptr_host.push_back(0);
  for (int s = 0; s < c.seqs; ++s) {
    m->query_start_loc_host.push_back((s + 1) * c.query);
    m->seq_lens_host.push_back(c.context);
    for (int b = 0; b < blocks_per_seq; ++b)
      m->block_indices_host.push_back(pool[s * blocks_per_seq + b]);
    m->block_indptr_host.push_back((s + 1) * blocks_per_seq);
    for (int j = 0; j < c.query; ++j) m->slot_mapping_host.push_back(-1);
  }
  int64_t nb = static_cast<int64_t>(pool.size());
  auto kc = std::make_shared<Tensor>(Random(Shape{nb, bs, c.hk, c.d}, c.cache, 4));
  auto vc = std::make_shared<Tensor>(Random(Shape{nb, bs, c.hk, c.d}, c.cache, 5));
  int64_t t = static_cast<int64_t>(c.seqs) * c.query;
  auto q = std::make_shared<Tensor>(Random(Shape{t, c.hq, c.d}, DType::kF32, 6));
  auto out = std::make_shared<Tensor>(Tensor::EmptyHost(Shape{t, c.hq, c.d}, DType::kF32));
  double keys = c.query == 1 ? c.context : (c.context - c.query / 2.0);  // causal average
  *flops = 4.0 * t * c.hq * keys * c.d;
  AttentionParams p;
  p.scale = 1.f / std::sqrt(static_cast<float>(c.d));
  return [=] { CHECK_OK(ops::PagedAttention(ExecCtx{}, *q, *kc, *vc, *m, p, *out)); };
}

const LinearCase kLinear[] = {
    {"linear/decode/f32/4096x4096", 1, 4096, 4096, DType::kF32},
    {"linear/decode/bf16/4096x4096", 1, 4096, 4096, DType::kBF16},
    {"linear/decode8/bf16/11008x4096", 8, 11008, 4096, DType::kBF16},
    {"linear/prefill128/f32/4096x4096", 128, 4096, 4096, DType::kF32},
    {"linear/prefill128/bf16/4096x4096", 128, 4096, 4096, DType::kBF16},
    {"linear/invariant/decode/bf16/4096x4096", 1, 4096, 4096, DType::kBF16, true},
    {"linear/invariant/prefill128/f32/4096x4096", 128, 4096, 4096, DType::kF32, true},
    {"linear/invariant/prefill128/bf16/4096x4096", 128, 4096, 4096, DType::kBF16, true},
};
const DecodeAttnCase kAttn[] = {
    {"attention/decode/f32/8x1024/gqa32:8/d128", 8, 1024, 32, 8, 128, DType::kF32},
    {"attention/decode/bf16/8x1024/gqa32:8/d128", 8, 1024, 32, 8, 128, DType::kBF16},
    {"attention/decode/f32/32x256/mha16/d64", 32, 256, 16, 16, 64, DType::kF32},
    {"attention/prefill/f32/1x512/gqa32:8/d128", 1, 512, 32, 8, 128, DType::kF32, 512},
    {"attention/prefill/bf16/1x512/gqa32:8/d128", 1, 512, 32, 8, 128, DType::kBF16, 512},
};

#if PAGELLM_HAVE_GBENCH
void Register(const char* name, std::function<void()> fn, double flops) {
  benchmark::RegisterBenchmark(name,
                               [fn, flops](benchmark::State& st) {
                                 for (auto _ : st) fn();
                                 st.counters["GFLOP/s"] = benchmark::Counter(
                                     flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
                               })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}
#else
void Run(const char* name, const std::function<void()>& fn, double flops) {
  fn();  // warm-up
  int iters = 0;
  auto t0 = std::chrono::steady_clock::now();
  double secs = 0;
  while (secs < 0.5 || iters < 3) {
    fn();
    ++iters;
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::printf("%-48s %10.1f us  %8.2f GFLOP/s\n", name, 1e6 * secs / iters,
              flops * iters / secs * 1e-9);
}
#endif

}  // namespace
}  // namespace pagellm

int main(int argc, char** argv) {
  using namespace pagellm;
  double flops = 0;
#if PAGELLM_HAVE_GBENCH
  for (const auto& c : kLinear) {
    auto fn = MakeLinear(c, &flops);
    Register(c.name, fn, flops);
  }
  for (const auto& c : kAttn) {
    auto fn = MakeDecodeAttention(c, &flops);
    Register(c.name, fn, flops);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
#else
  for (const auto& c : kLinear) Run(c.name, MakeLinear(c, &flops), flops);
  for (const auto& c : kAttn) Run(c.name, MakeDecodeAttention(c, &flops), flops);
#endif
  return 0;
}

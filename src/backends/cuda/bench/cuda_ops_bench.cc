// Micro-benchmarks of the CUDA backend (a program, not a test): device-to-device copy (the HBM
// ceiling), cuBLASLt GEMMs at Llama-3-8B projection shapes, paged decode and prefill attention,
// RmsNorm. Times are CUDA-event medians over many runs after warm-up, on random data.
// Usage: cuda_ops_bench [--quick]      Prints one table row per case.
#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/graph.h"
#include "ops/ops.h"

namespace pagellm::cuda {
namespace {

const ExecCtx kCtx{Device::Cuda(0)};

#define BENCH_CHECK(expr)                                                    \
  do {                                                                       \
    auto _st = (expr);                                                       \
    if (!_st.ok()) {                                                         \
      fmt::print(stderr, "{}:{}: {}\n", __FILE__, __LINE__, _st.ToString()); \
      std::exit(1);                                                          \
    }                                                                        \
  } while (0)
#define BENCH_CUDA(expr)                                                             \
  do {                                                                               \
    cudaError_t _e = (expr);                                                         \
    if (_e != cudaSuccess) {                                                         \
      fmt::print(stderr, "{}:{}: {}\n", __FILE__, __LINE__, cudaGetErrorString(_e)); \
      std::exit(1);                                                                  \
    }                                                                                \
  } while (0)

// A device tensor of random values in [-1, 1): a 16 MiB random block, replicated.
Tensor Random(const Shape& shape, DType dtype, uint32_t seed) {
  auto t = Tensor::Empty(shape, dtype, kCtx.device);
  BENCH_CHECK(t.status());
  const int64_t n = shape.numel(), block = std::min<int64_t>(n, 4 << 20);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(block);
  for (float& x : v) x = dist(rng);
  Tensor host = Tensor::FromVector(v, Shape{block}, dtype);
  const size_t es = DTypeSize(dtype);
  for (int64_t off = 0; off < n; off += block) {
    const int64_t len = std::min(block, n - off);
    BENCH_CUDA(cudaMemcpy(static_cast<char*>(t->data()) + off * es, host.data(), len * es,
                          cudaMemcpyHostToDevice));
  }
  return *t;
}

Tensor Ints(const std::vector<int32_t>& v) {
  Tensor host = Tensor::FromInts(v);
  auto t = Tensor::Empty(host.shape(), DType::kI32, kCtx.device);
  BENCH_CHECK(t.status());
  BENCH_CHECK(ops::Copy(kCtx, host, *t));
  return *t;
}

// Median milliseconds of `fn` over `iters` event-timed runs after `warmup` runs.
double MedianMs(const std::function<void()>& fn, int warmup = 5, int iters = 50) {
  for (int i = 0; i < warmup; ++i) fn();
  cudaEvent_t a, b;
  BENCH_CUDA(cudaEventCreate(&a));
  BENCH_CUDA(cudaEventCreate(&b));
  std::vector<float> ms(iters);
  for (int i = 0; i < iters; ++i) {
    BENCH_CUDA(cudaEventRecord(a, nullptr));
    fn();
    BENCH_CUDA(cudaEventRecord(b, nullptr));
    BENCH_CUDA(cudaEventSynchronize(b));
    BENCH_CUDA(cudaEventElapsedTime(&ms[i], a, b));
  }
  BENCH_CUDA(cudaGetLastError());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::nth_element(ms.begin(), ms.begin() + iters / 2, ms.end());
  return ms[iters / 2];
}

void Row(const std::string& op, const std::string& shape, double ms, double flops, double bytes) {
  fmt::print("{:<14} {:<44} {:>10.1f} {:>9.1f} {:>9.0f}\n", op, shape, ms * 1e3,
             flops > 0 ? flops / ms / 1e9 : 0.0, bytes > 0 ? bytes / ms / 1e6 : 0.0);
  std::fflush(stdout);
}

void BenchCopy(bool quick) {
  const int64_t n = quick ? (256 << 20) : (int64_t{1} << 30);  // bytes
  Tensor src = Random(Shape{n / 2}, DType::kBF16, 1), dst = Random(Shape{n / 2}, DType::kBF16, 2);
  double ms = MedianMs([&] { BENCH_CHECK(ops::Copy(kCtx, src, dst)); });
  Row("copy d2d", fmt::format("{} MiB (read+write counted)", n >> 20), ms, 0, 2.0 * n);
}

void BenchGemm(bool quick) {
  struct Proj {
    const char* name;
    int64_t out, in;
  };
  const Proj projs[] = {
      {"qkv", 6144, 4096}, {"o", 4096, 4096}, {"gate_up", 28672, 4096}, {"down", 4096, 14336}};
  const std::vector<int64_t> tokens = quick
                                          ? std::vector<int64_t>{1, 128, 4096}
                                          : std::vector<int64_t>{1, 8, 16, 32, 64, 128, 256,
                                                                 1024, 4096, 8192};
  for (const Proj& p : projs) {
    Tensor w = Random(Shape{p.out, p.in}, DType::kBF16, 3);
    for (int64_t t : tokens) {
      Tensor x = Random(Shape{t, p.in}, DType::kBF16, 4),
             y = Random(Shape{t, p.out}, DType::kBF16, 5);
      double ms = MedianMs([&] { BENCH_CHECK(ops::Linear(kCtx, x, w, nullptr, y)); });
      const double bytes = 2.0 * (p.out * p.in + t * p.in + t * p.out);
      Row("gemm bf16", fmt::format("{} T={} [{}x{}]", p.name, t, p.out, p.in), ms,
          2.0 * t * p.out * p.in, bytes);
    }
  }
}

struct Batch {
  AttentionMetadata meta;
  int64_t num_blocks = 0;
};

// `seqs` sequences, each with `context` tokens of which the last `qlen` are this step's.
Batch MakeBatch(int seqs, int context, int qlen, int block_size) {
  Batch b;
  AttentionMetadata& m = b.meta;
  m.num_seqs = seqs;
  m.block_size = block_size;
  const int nb = (context + block_size - 1) / block_size;
  b.num_blocks = static_cast<int64_t>(seqs) * nb;
  std::vector<int32_t> perm(b.num_blocks);
  for (int64_t i = 0; i < b.num_blocks; ++i) perm[i] = static_cast<int32_t>(i);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(9));
  m.query_start_loc_host = {0};
  m.block_indptr_host = {0};
  for (int s = 0; s < seqs; ++s) {
    for (int i = 0; i < nb; ++i) m.block_indices_host.push_back(perm[s * nb + i]);
    m.block_indptr_host.push_back(static_cast<int32_t>(m.block_indices_host.size()));
    m.query_start_loc_host.push_back(m.query_start_loc_host.back() + qlen);
    m.seq_lens_host.push_back(context);
    for (int t = context - qlen; t < context; ++t) {
      const int32_t block = m.block_indices_host[m.block_indptr_host[s] + t / block_size];
      m.slot_mapping_host.push_back(block * block_size + t % block_size);
    }
  }
  m.num_tokens = seqs * qlen;
  m.max_query_len = qlen;
  m.max_seq_len = context;
  m.is_pure_decode = qlen == 1;
  m.query_start_loc = Ints(m.query_start_loc_host);
  m.seq_lens = Ints(m.seq_lens_host);
  m.block_indptr = Ints(m.block_indptr_host);
  m.block_indices = Ints(m.block_indices_host);
  m.slot_mapping = Ints(m.slot_mapping_host);
  return b;
}

// Llama-3-8B attention: 32 query heads, 8 KV heads, head_dim 128, block size 16.
void BenchAttention(bool quick) {
  const int hq = 32, hk = 8, d = 128, bs = 16;
  struct Case {
    int seqs, context, qlen;
  };
  std::vector<Case> cases = {{1, 2048, 1},    {1, 32768, 1},   {8, 4096, 1},
                             {64, 2048, 1},   {256, 1024, 1},  {256, 4096, 1},
                             {1000, 400, 1},  {1, 2048, 2048}, {1, 8192, 8192},
                             {4, 4096, 512},  {100, 160, 160}};
  if (quick) cases = {{1, 32768, 1}, {64, 2048, 1}, {1, 2048, 2048}};
  for (const Case& c : cases) {
    Batch b = MakeBatch(c.seqs, c.context, c.qlen, bs);
    Tensor kc = Random(Shape{b.num_blocks, bs, hk, d}, DType::kBF16, 6);
    Tensor vc = Random(Shape{b.num_blocks, bs, hk, d}, DType::kBF16, 7);
    const int64_t t = b.meta.num_tokens;
    Tensor q = Random(Shape{t, hq, d}, DType::kBF16, 8),
           out = Random(Shape{t, hq, d}, DType::kBF16, 9);
    AttentionParams params;
    params.scale = 0.088388f;
    double ms =
        MedianMs([&] { BENCH_CHECK(ops::PagedAttention(kCtx, q, kc, vc, b.meta, params, out)); }, 3,
                 c.qlen > 1 ? 10 : 50);
    const double kv_bytes = 2.0 * 2 * c.seqs * static_cast<double>(c.context) * hk * d;
    // Causal FLOPs: each query row sees on average (context - qlen/2) keys; QK^T and PV.
    const double keys = c.context - c.qlen / 2.0;
    const double flops = 4.0 * t * hq * d * keys;
    Row(c.qlen == 1 ? "attn decode" : "attn prefill",
        fmt::format("B={} ctx={} q={} (32/8 heads, d128)", c.seqs, c.context, c.qlen), ms, flops,
        kv_bytes);
  }
}

void BenchNorm() {
  for (int64_t t : {1, 256, 8192}) {
    Tensor x = Random(Shape{t, 4096}, DType::kBF16, 10), w = Random(Shape{4096}, DType::kBF16, 11);
    Tensor r = Random(Shape{t, 4096}, DType::kBF16, 12),
           out = Random(Shape{t, 4096}, DType::kBF16, 13);
    double ms = MedianMs([&] { BENCH_CHECK(ops::AddRmsNorm(kCtx, x, r, w, 1e-5f, 0.f, out)); });
    Row("add_rmsnorm", fmt::format("T={} H=4096 bf16", t), ms, 0, 2.0 * t * 4096 * 4);
  }
}

// Llama-3 vocabulary (128256), f32 logits: greedy, plain temperature, top-k + top-p, and
// top-k + top-p with repetition/frequency penalties over a 512-token history.
void BenchSampling() {
  const int64_t vocab = 128256;
  for (int64_t rows : {1, 256}) {
    Tensor logits = Random(Shape{rows, vocab}, DType::kF32, 14);
    auto ids = Tensor::Empty(Shape{rows}, DType::kI32, kCtx.device);
    auto lps = Tensor::Empty(Shape{rows}, DType::kF32, kCtx.device);
    auto hist = Tensor::Empty(Shape{512}, DType::kI32, kCtx.device);
    BENCH_CHECK(ids.status());
    BENCH_CHECK(lps.status());
    BENCH_CHECK(hist.status());
    BENCH_CHECK(cudaMemset(hist->data(), 0, hist->nbytes()) == cudaSuccess
                    ? pagellm::OkStatus()
                    : pagellm::InternalError("cudaMemset"));
    struct Mode {
      const char* name;
      double t, top_p, rep;
      int top_k;
      bool logprobs = true;
    };
    const Mode modes[] = {{"greedy", 0, 1, 1, 0},
                          {"temperature", 0.8, 1, 1, 0},
                          {"temperature", 1.0, 1, 1, 0, false},  // what bench throughput asks
                          {"top_k50+top_p0.9", 0.8, 0.9, 1, 50},
                          {"top_k50+top_p0.9+penalties", 0.8, 0.9, 1.1, 50}};
    for (const Mode& mode : modes) {
      ops::SampleRowParams row;
      row.temperature = mode.t;
      row.top_p = mode.top_p;
      row.top_k = mode.top_k;
      row.u = 0.5;
      row.num_top_logprobs = mode.logprobs ? 0 : -1;
      if (mode.rep != 1) {
        row.repetition_penalty = mode.rep;
        row.frequency_penalty = 0.1;
        row.history = hist->data<int32_t>();
        row.num_prompt = 256;
        row.num_history = 512;
      }
      std::vector<ops::SampleRowParams> params(rows, row);
      ops::SampleOutputs out;
      out.ids = *ids;
      if (mode.logprobs) out.logprobs = *lps;
      double ms =
          MedianMs([&] { BENCH_CHECK(ops::SampleRows(kCtx, logits, params, {}, {}, out)); });
      Row("sample", fmt::format("{} B={} V={}{}", mode.name, rows, vocab,
                                mode.logprobs ? " (+logprobs)" : ""),
          ms, 0, 4.0 * rows * vocab);
    }
  }
}

}  // namespace
}  // namespace pagellm::cuda

int main(int argc, char** argv) {
  using namespace pagellm::cuda;  // NOLINT
  bool quick = false, autotune = false;
  for (int i = 1; i < argc; ++i) {
    quick = quick || std::strcmp(argv[i], "--quick") == 0;
    autotune = autotune || std::strcmp(argv[i], "--autotune") == 0;  // GEMM algorithms timed
  }
  SetGemmAutotune(autotune);
  InitCudaBackend();
  if (DeviceCount() == 0) {
    fmt::print(stderr, "cuda_ops_bench: no CUDA device\n");
    return 1;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  fmt::print("device: {} ({} SMs, {} MiB)\n", prop.name, prop.multiProcessorCount,
             prop.totalGlobalMem >> 20);
  fmt::print("{:<14} {:<44} {:>10} {:>9} {:>9}\n", "op", "case", "median_us", "TFLOP/s", "GB/s");
  BenchCopy(quick);
  BenchGemm(quick);
  BenchAttention(quick);
  BenchNorm();
  BenchSampling();
  return 0;
}

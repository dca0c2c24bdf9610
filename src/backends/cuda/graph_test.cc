// CUDA-graph capture of a decode step's ops (WriteKVCache, PagedAttention with context splits,
// Linear, RmsNorm, GatedActivation, Rotary) on a non-default stream: after one eager warm-up
// step (so the caching allocator holds every scratch block), capture must succeed and a replay
// must reproduce the eager outputs bit for bit.
#include <cuda_runtime.h>

#include <cmath>
#include <cstring>

#include "backends/cuda/cuda_test_util.h"

namespace pagellm::cuda {
namespace {

using namespace pagellm::cuda::testing;  // NOLINT

struct Step {
  AttentionMetadata meta;
  Tensor q, k, v, kc, vc, attn, x, w, y, norm_w, normed, gate_up, act, cos_sin;
};

Step MakeStep(std::mt19937& rng) {
  const DType dt = DType::kBF16;
  const int hq = 8, hk = 2, d = 128, bs = 16, seqs = 2, ctx_len = 3000;
  Step s;
  AttentionMetadata& m = s.meta;
  m.num_seqs = seqs;
  m.num_tokens = seqs;
  m.block_size = bs;
  m.is_pure_decode = true;
  const int nb = (ctx_len + bs - 1) / bs;
  m.query_start_loc_host = {0};
  m.block_indptr_host = {0};
  for (int i = 0; i < seqs; ++i) {
    for (int b = 0; b < nb; ++b) m.block_indices_host.push_back((b * seqs + i) % (nb * seqs));
    m.block_indptr_host.push_back(static_cast<int32_t>(m.block_indices_host.size()));
    m.query_start_loc_host.push_back(i + 1);
    m.seq_lens_host.push_back(ctx_len);
    const int32_t last = m.block_indices_host[m.block_indptr_host[i] + (ctx_len - 1) / bs];
    m.slot_mapping_host.push_back(last * bs + (ctx_len - 1) % bs);
    m.positions_host.push_back(ctx_len - 1);
  }
  m.max_query_len = 1;
  m.max_seq_len = ctx_len;
  m.query_start_loc = IntsToDevice(m.query_start_loc_host);
  m.seq_lens = IntsToDevice(m.seq_lens_host);
  m.block_indptr = IntsToDevice(m.block_indptr_host);
  m.block_indices = IntsToDevice(m.block_indices_host);
  m.slot_mapping = IntsToDevice(m.slot_mapping_host);
  m.positions = IntsToDevice(m.positions_host);
  const int64_t blocks = static_cast<int64_t>(nb) * seqs;
  s.q = ToDevice(RandomValues(rng, seqs * hq * d, dt), Shape{seqs, hq, d}, dt);
  s.k = ToDevice(RandomValues(rng, seqs * hk * d, dt), Shape{seqs, hk, d}, dt);
  s.v = ToDevice(RandomValues(rng, seqs * hk * d, dt), Shape{seqs, hk, d}, dt);
  s.kc = ToDevice(RandomValues(rng, blocks * bs * hk * d, dt), Shape{blocks, bs, hk, d}, dt);
  s.vc = ToDevice(RandomValues(rng, blocks * bs * hk * d, dt), Shape{blocks, bs, hk, d}, dt);
  s.attn = Poisoned(Shape{seqs, hq, d}, dt);
  s.x = ToDevice(RandomValues(rng, seqs * 512, dt), Shape{seqs, 512}, dt);
  s.w = ToDevice(RandomValues(rng, 768 * 512, dt), Shape{768, 512}, dt);
  s.y = Poisoned(Shape{seqs, 768}, dt);
  s.norm_w = ToDevice(RandomValues(rng, 768, dt), Shape{768}, dt);
  s.normed = Poisoned(Shape{seqs, 768}, dt);
  s.act = Poisoned(Shape{seqs, 384}, dt);
  std::vector<float> cs(4096 * 128);
  for (size_t i = 0; i < cs.size(); ++i) cs[i] = static_cast<float>(std::cos(0.001 * i));
  s.cos_sin = ToDevice(cs, Shape{4096, 128}, DType::kF32);
  return s;
}

Status RunStep(const ExecCtx& ctx, Step& s) {
  RETURN_IF_ERROR(
      ops::ApplyRotary(ctx, s.meta.positions, s.cos_sin, 128, ops::RopeStyle::kNeox, s.q, s.k));
  RETURN_IF_ERROR(ops::WriteKVCache(ctx, s.k, s.v, s.meta, s.kc, s.vc));
  AttentionParams params;
  params.scale = 0.088f;
  RETURN_IF_ERROR(ops::PagedAttention(ctx, s.q, s.kc, s.vc, s.meta, params, s.attn));
  RETURN_IF_ERROR(ops::Linear(ctx, s.x, s.w, nullptr, s.y));
  RETURN_IF_ERROR(ops::RmsNorm(ctx, s.y, s.norm_w, 1e-6f, 0.f, s.normed));
  return ops::GatedActivation(ctx, ops::Activation::kSilu, s.normed, s.act);
}

TEST(CudaGraph, DecodeStepCapturesAndReplaysExactly) {
  PAGELLM_SKIP_WITHOUT_CUDA();
  std::mt19937 rng(5);
  Step s = MakeStep(rng);
  // Inputs were uploaded on the legacy stream, which a non-blocking stream does not wait for.
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  ExecCtx ctx = GpuCtx();
  ctx.stream = stream;
  // Rotary rotates q/k in place: keep the originals to restore before each run.
  Tensor q0 = Poisoned(s.q.shape(), s.q.dtype()), k0 = Poisoned(s.k.shape(), s.k.dtype());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_TRUE(ops::Copy(ctx, s.q, q0).ok());
  ASSERT_TRUE(ops::Copy(ctx, s.k, k0).ok());
  Status st = RunStep(ctx, s);  // eager warm-up: fills the allocator cache and cuBLASLt state
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  const std::vector<float> attn = ToHostFloats(s.attn), act = ToHostFloats(s.act);

  ASSERT_TRUE(ops::Copy(ctx, q0, s.q).ok());
  ASSERT_TRUE(ops::Copy(ctx, k0, s.k).ok());
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  cudaGraph_t graph;
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  st = RunStep(ctx, s);
  ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
  ASSERT_TRUE(st.ok()) << st.ToString();
  cudaGraphExec_t exec;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  Tensor poison_attn = Poisoned(s.attn.shape(), s.attn.dtype());
  Tensor poison_act = Poisoned(s.act.shape(), s.act.dtype());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  ASSERT_TRUE(ops::Copy(ctx, poison_attn, s.attn).ok());
  ASSERT_TRUE(ops::Copy(ctx, poison_act, s.act).ok());
  ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(ToHostFloats(s.attn), attn);
  EXPECT_EQ(ToHostFloats(s.act), act);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace pagellm::cuda

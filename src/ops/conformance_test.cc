// Conformance: every op on every available backend vs the CPU reference on the same inputs.
// Adding a backend = one line in Backends(). Inputs are made on the host, copied to the
// backend's device with ops::Copy, and results copied back.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <tuple>

#include "ops/op_test_util.h"
#include "ops/moe.h"
#include "ops/ops.h"
#include "ops/readback.h"
#include "ops/rope_table.h"
#if PAGELLM_HAVE_CUDA
#include "backends/cuda/cuda_ops.h"
#endif

namespace pagellm::ops {
namespace {

using testing::RandomTensor;

struct Backend {
  std::string name;
  ExecCtx ctx;
};

std::vector<Backend> Backends() {
  std::vector<Backend> b = {{"cpu", ExecCtx::Cpu()}};
#if PAGELLM_HAVE_CUDA
  // A CUDA build on a machine without a GPU (CI) tests the CPU backend only.
  if (cuda::DeviceCount() > 0) b.push_back({"cuda", ExecCtx{Device::Cuda(0)}});
#endif
  return b;
}

Tensor ToDevice(const ExecCtx& ctx, const Tensor& host) {
  if (ctx.device.is_cpu())
    return Tensor::FromVector(host.ToFloatVector(), host.shape(), host.dtype());
  auto t = Tensor::Empty(host.shape(), host.dtype(), ctx.device);
  CHECK(t.ok()) << t.status().ToString();
  CHECK_OK(Copy(ctx, host, *t));
  return *t;
}

Tensor IntsToDevice(const ExecCtx& ctx, const std::vector<int32_t>& v) {
  Tensor host = Tensor::FromInts(v);
  if (ctx.device.is_cpu()) return host;
  auto t = Tensor::Empty(host.shape(), DType::kI32, ctx.device);
  CHECK(t.ok());
  CHECK_OK(Copy(ctx, host, *t));
  return *t;
}

Tensor ToHost(const ExecCtx& ctx, const Tensor& dev) {
  Tensor h = Tensor::EmptyHost(dev.shape(), dev.dtype());
  CHECK_OK(Copy(ctx, dev, h));
  return h;
}

// Runs `op` on the CPU and on the backend with identical inputs; compares the outputs.
// `op(ctx, inputs, outputs)` gets tensors already on ctx's device.
using OpFn = std::function<Status(const ExecCtx&, std::vector<Tensor>&, std::vector<Tensor>&)>;

// How outputs are compared: per element (ExpectClose with `tol`), or for attention-like
// reductions by norm (ExpectCloseNorm with NormTolFor(dtype), per element within 4x that of the
// largest output), plus the per-element check in f32, where no intermediate is rounded.
enum class Check { kElementwise, kNorm };

void Compare(const Backend& be, std::vector<Tensor> host_in, std::vector<Tensor> host_out,
             const OpFn& op, double tol, Check check = Check::kElementwise) {
  std::vector<Tensor> ref_in, ref_out, dev_in, dev_out;
  ExecCtx cpu;
  for (const Tensor& t : host_in) {
    ref_in.push_back(ToDevice(cpu, t));
    dev_in.push_back(ToDevice(be.ctx, t));
  }
  for (const Tensor& t : host_out) {
    ref_out.push_back(ToDevice(cpu, t));
    dev_out.push_back(ToDevice(be.ctx, t));
  }
  ASSERT_TRUE(op(cpu, ref_in, ref_out).ok());
  Status s = op(be.ctx, dev_in, dev_out);
  ASSERT_TRUE(s.ok()) << be.name << ": " << s.ToString();
  for (size_t i = 0; i < ref_out.size(); ++i) {
    std::vector<float> want_f = ref_out[i].ToFloatVector();
    std::vector<double> want(want_f.begin(), want_f.end());
    Tensor got = ToHost(be.ctx, dev_out[i]);
    std::string what = be.name + " output " + std::to_string(i);
    DType dt = got.dtype();
    if (check == Check::kNorm) {
      double norm_tol = testing::NormTolFor(dt);
      testing::ExpectCloseNorm(want, got, norm_tol, dt == DType::kF32 ? 1e-4 : 4 * norm_tol, what);
    }
    if (check == Check::kElementwise || dt == DType::kF32)
      testing::ExpectClose(want, got, tol, 1e-3, what);
  }
}

class ConformanceTest : public ::testing::TestWithParam<Backend> {};

TEST_P(ConformanceTest, DenseOps) {
  const Backend& be = GetParam();
  for (DType t : {DType::kF32, DType::kBF16}) {
    double tol = t == DType::kF32 ? 1e-4 : 2e-2;
    Compare(
        be, {RandomTensor({5, 130}, t, 1), RandomTensor({17, 130}, t, 2)},
        {Tensor::EmptyHost({5, 17}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return Linear(c, in[0], in[1], nullptr, out[0]);
        },
        tol);
    Compare(
        be, {RandomTensor({3, 130}, t, 3), RandomTensor({130}, t, 4)},
        {Tensor::EmptyHost({3, 130}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return RmsNorm(c, in[0], in[1], 1e-6f, 0.f, out[0]);
        },
        tol);
    Compare(
        be, {RandomTensor({3, 130}, t, 5), RandomTensor({130}, t, 6)},
        {RandomTensor({3, 130}, t, 7), Tensor::EmptyHost({3, 130}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return AddRmsNorm(c, in[0], out[0], in[1], 1e-6f, 1.f, out[1]);
        },
        tol);
    Compare(
        be, {RandomTensor({3, 34}, t, 8)}, {Tensor::EmptyHost({3, 17}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return GatedActivation(c, Activation::kSilu, in[0], out[0]);
        },
        tol);
    Compare(
        be, {RandomTensor({11, 9}, t, 9)}, {Tensor::EmptyHost({3, 9}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          Tensor ids = IntsToDevice(c, {10, 0, 3});
          return Embedding(c, ids, in[0], out[0]);
        },
        tol);
  }
}

TEST_P(ConformanceTest, Rotary) {
  const Backend& be = GetParam();
  Tensor table = *BuildRopeCosSin(8, 32, 10000.0, RopeScalingParams{});
  Compare(
      be, {table},
      {RandomTensor({3, 4, 8}, DType::kF32, 1), RandomTensor({3, 2, 8}, DType::kF32, 2)},
      [](const ExecCtx& c, auto& in, auto& out) {
        Tensor pos = IntsToDevice(c, {0, 5, 31});
        return ApplyRotary(c, pos, in[0], 8, RopeStyle::kNeox, out[0], out[1]);
      },
      1e-5);
  for (RopeStyle style : {RopeStyle::kNeox, RopeStyle::kGptj}) {
    Tensor partial = *BuildRopeCosSin(6, 32, 10000.0, RopeScalingParams{});
    Compare(
        be, {partial},
        {RandomTensor({3, 4, 10}, DType::kBF16, 3), RandomTensor({3, 1, 10}, DType::kBF16, 4)},
        [style](const ExecCtx& c, auto& in, auto& out) {
          Tensor pos = IntsToDevice(c, {31, 0, 2});
          return ApplyRotary(c, pos, in[0], 6, style, out[0], out[1]);
        },
        2e-2);
  }
}

// Rotary fused with the KV write: q, k (rotated in place) and both caches. Slot -1 skips a
// token; untouched slots keep their zeros.
TEST_P(ConformanceTest, RotaryWriteKV) {
  const Backend& be = GetParam();
  for (DType dt : {DType::kF32, DType::kBF16}) {
    Tensor table = *BuildRopeCosSin(16, 32, 10000.0, RopeScalingParams{});
    std::vector<Tensor> out = {RandomTensor({5, 4, 16}, dt, 7), RandomTensor({5, 2, 16}, dt, 8)};
    for (int i = 0; i < 2; ++i)
      out.push_back(Tensor::FromVector(std::vector<float>(4 * 4 * 2 * 16, 0.f), {4, 4, 2, 16}, dt));
    Compare(
        be, {table, RandomTensor({5, 2, 16}, dt, 9)}, out,
        [](const ExecCtx& c, auto& in, auto& out) {
          AttentionMetadata m;
          m.num_tokens = 5;
          m.block_size = 4;
          m.positions_host = {0, 5, 31, 2, 7};
          m.positions = IntsToDevice(c, m.positions_host);
          m.slot_mapping_host = {3, 9, -1, 12, 0};
          m.slot_mapping = IntsToDevice(c, m.slot_mapping_host);
          return ApplyRotaryWriteKV(c, in[0], 16, RopeStyle::kNeox, out[0], out[1], in[1], m,
                                    out[2], out[3]);
        },
        dt == DType::kF32 ? 1e-5 : 2e-2);
  }
}

struct AttnConf {
  DType cache;
  int64_t hq, hk;
  int32_t window = 0;
  float softcap = 0.f;
  bool alibi = false;
};

// Three sequences in a shuffled block table (block size 4): a 7-token prefill, a decode at
// position 9 and a 3-token chunk after 5 cached tokens. All positions' K/V are written first.
void AttentionConformance(const Backend& be, const AttnConf& cf) {
  const int64_t d = 16, positions = 7 + 10 + 8;
  // Activations share the cache dtype (the CUDA backend requires one dtype per op).
  std::vector<Tensor> in = {RandomTensor({11, cf.hq, d}, cf.cache, 3),
                            RandomTensor({positions, cf.hk, d}, cf.cache, 4),
                            RandomTensor({positions, cf.hk, d}, cf.cache, 5),
                            RandomTensor({cf.hq}, DType::kF32, 6, 0.1f, 1.f)};
  std::vector<Tensor> out;
  for (const Shape& s : {Shape{8, 4, cf.hk, d}, Shape{8, 4, cf.hk, d}, Shape{11, cf.hq, d}})
    out.push_back(Tensor::FromVector(std::vector<float>(s.numel(), 0.f), s, cf.cache));
  Compare(
      be, in, out,
      [cf](const ExecCtx& c, auto& in, auto& out) {
        // Blocks: seq0 {5, 1}, seq1 {7, 0, 2}, seq2 {4, 6}.
        std::vector<int32_t> blocks = {5, 1, 7, 0, 2, 4, 6}, first = {0, 2, 5};
        std::vector<int32_t> lens = {7, 10, 8}, all_slots;
        for (int s = 0; s < 3; ++s)
          for (int32_t p = 0; p < lens[s]; ++p)
            all_slots.push_back(blocks[first[s] + p / 4] * 4 + p % 4);
        AttentionMetadata fill;
        fill.num_tokens = static_cast<int32_t>(all_slots.size());
        fill.block_size = 4;
        fill.slot_mapping_host = all_slots;
        fill.slot_mapping = IntsToDevice(c, all_slots);
        RETURN_IF_ERROR(WriteKVCache(c, in[1], in[2], fill, out[0], out[1]));
        AttentionMetadata m;
        m.num_seqs = 3;
        m.num_tokens = 11;
        m.block_size = 4;
        m.max_query_len = 7;
        m.max_seq_len = 10;
        m.query_start_loc_host = {0, 7, 8, 11};
        m.seq_lens_host = lens;
        m.block_indptr_host = {0, 2, 5, 7};
        m.block_indices_host = blocks;
        m.slot_mapping_host = {all_slots[0],  all_slots[1],  all_slots[2], all_slots[3],
                               all_slots[4],  all_slots[5],  all_slots[6], all_slots[16],
                               all_slots[22], all_slots[23], all_slots[24]};
        m.positions_host = {0, 1, 2, 3, 4, 5, 6, 9, 5, 6, 7};
        m.query_start_loc = IntsToDevice(c, m.query_start_loc_host);
        m.seq_lens = IntsToDevice(c, m.seq_lens_host);
        m.block_indptr = IntsToDevice(c, m.block_indptr_host);
        m.block_indices = IntsToDevice(c, m.block_indices_host);
        m.slot_mapping = IntsToDevice(c, m.slot_mapping_host);
        m.positions = IntsToDevice(c, m.positions_host);
        AttentionParams p;
        p.scale = 0.3f;
        p.sliding_window = cf.window;
        p.logit_softcap = cf.softcap;
        p.alibi_slopes = cf.alibi ? &in[3] : nullptr;
        return PagedAttention(c, in[0], out[0], out[1], m, p, out[2]);
      },
      1e-4, Check::kNorm);
}

TEST_P(ConformanceTest, PagedAttention) {
  AttentionConformance(GetParam(), {DType::kF32, 4, 4});
  AttentionConformance(GetParam(), {DType::kF32, 8, 2, /*window=*/5});
  AttentionConformance(GetParam(), {DType::kBF16, 4, 1, 0, /*softcap=*/2.f});
  AttentionConformance(GetParam(), {DType::kF16, 4, 2, 0, 0.f, /*alibi=*/true});
}

// Operands of one op share a dtype (weights aside): the CUDA backend supports only that.
TEST_P(ConformanceTest, ElementwiseAndGather) {
  const Backend& be = GetParam();
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16}) {
    double tol = t == DType::kF32 ? 1e-4 : 2e-2;
    for (Activation a : {Activation::kSilu, Activation::kGeluTanh, Activation::kGeluExact,
                         Activation::kRelu, Activation::kGeluQuick}) {
      Compare(
          be, {RandomTensor({3, 260}, t, 1, -4.f, 4.f)},
          {Tensor::EmptyHost({3, 130}, t), Tensor::EmptyHost({3, 260}, t)},
          [a](const ExecCtx& c, auto& in, auto& out) {
            RETURN_IF_ERROR(GatedActivation(c, a, in[0], out[0]));
            return Activate(c, a, in[0], out[1]);
          },
          tol);
    }
    Compare(
        be, {RandomTensor({5, 33}, t, 2), RandomTensor({5, 33}, t, 3)},
        {Tensor::EmptyHost({5, 33}, t), RandomTensor({5, 33}, t, 4), Tensor::EmptyHost({2, 33}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          RETURN_IF_ERROR(Add(c, in[0], in[1], out[0]));
          RETURN_IF_ERROR(Scale(c, out[1], -0.5f, out[1]));
          RETURN_IF_ERROR(SoftCap(c, out[0], 1.5f));
          return GatherRows(c, in[0], IntsToDevice(c, {4, 1}), out[2]);
        },
        tol);
    Compare(
        be, {}, {RandomTensor({4, 40}, t, 9, -4.f, 4.f)},
        [](const ExecCtx& c, auto&, auto& out) {
          Tensor cols = out[0].Slice(1, 8, 32);  // rows with a stride (MPT clips fused qkv)
          return Clamp(c, cols, 1.5f);
        },
        0.0);
    Compare(
        be,
        {RandomTensor({4, 70}, t, 5), RandomTensor({70}, DType::kF32, 6),
         RandomTensor({70}, DType::kF32, 7)},
        {Tensor::EmptyHost({4, 70}, t)},
        [](const ExecCtx& c, auto& in, auto& out) {
          return LayerNorm(c, in[0], in[1], &in[2], 1e-5f, out[0]);
        },
        tol);
    for (DType to : {DType::kF32, DType::kBF16, DType::kF16}) {
      Compare(
          be, {RandomTensor({4, 6, 5}, t, 8)}, {Tensor::EmptyHost({4, 3, 5}, to)},
          [](const ExecCtx& c, auto& in, auto& out) {
            return Copy(c, in[0].Slice(1, 2, 5), out[0]);  // strided source, dtype conversion
          },
          0.0);
    }
  }
}

// Sparse MoE: routing and grouping must agree exactly (well-separated random logits), the whole
// MLP within the dtype's tolerance. Decode-sized and prefill-sized batches; 8 experts, top-2.
TEST_P(ConformanceTest, SparseMoe) {
  const Backend& be = GetParam();
  const int64_t h = 64, e = 8, im = 48;
  for (DType t : {DType::kF32, DType::kBF16}) {
    for (int64_t tokens : {int64_t{1}, int64_t{3}, int64_t{300}}) {
      MoeWeights host_w{RandomTensor({e, h}, t, 21), RandomTensor({e, 2 * im, h}, t, 22),
                        RandomTensor({e, h, im}, t, 23)};
      Tensor x = RandomTensor({tokens, h}, t, 24);
      MoeParams p{2, true, Activation::kSilu};
      std::vector<Tensor> outs;
      std::vector<std::vector<int32_t>> group_outs;
      for (const ExecCtx& c : {ExecCtx::Cpu(), be.ctx}) {
        MoeWeights w{ToDevice(c, host_w.router), ToDevice(c, host_w.gate_up),
                     ToDevice(c, host_w.down)};
        auto s = AllocateMoeScratch(tokens, e, p.top_k, h, im, t, c.device);
        ASSERT_TRUE(s.ok());
        Tensor out = ToDevice(c, Tensor::EmptyHost({tokens, h}, t));
        Status st = SparseMoeMlp(c, ToDevice(c, x), w, p, *s, out);
        ASSERT_TRUE(st.ok()) << be.name << ": " << st.ToString();
        outs.push_back(ToHost(c, out));
        std::vector<int32_t> g;
        for (const Tensor* i : {&s->ids, &s->offsets, &s->sorted_tokens, &s->positions}) {
          Tensor hi = ToHost(c, *i);
          g.insert(g.end(), hi.data<int32_t>(), hi.data<int32_t>() + hi.numel());
        }
        group_outs.push_back(g);
      }
      const std::string what =
          be.name + " " + std::string(DTypeName(t)) + " T=" + std::to_string(tokens);
      EXPECT_EQ(group_outs[0], group_outs[1]) << what;
      testing::ExpectCloseNorm(testing::ToDouble(outs[0]), outs[1], testing::NormTolFor(t),
                               t == DType::kF32 ? 1e-4 : 4 * testing::NormTolFor(t), what);
    }
  }
}

// Sampling: ids, ranks and top-N ids exact, logprobs within 1e-4 (same u per row on both
// backends; the top-p row only in f32, where no ties sit on its boundary).
TEST_P(ConformanceTest, SampleRows) {
  const Backend& be = GetParam();
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16}) {
    const int64_t n = t == DType::kF32 ? 6 : 5, vocab = 1000;
    Tensor host = RandomTensor({n, vocab}, t, 9, -5.f, 5.f);
    std::vector<SampleRowParams> rows(n);
    rows[0].temperature = 0, rows[3].temperature = 0;  // greedy
    rows[1].temperature = 0.7, rows[1].top_k = 20, rows[1].u = 0.3;
    rows[2].temperature = 1.2, rows[2].min_p = 0.1, rows[2].u = 0.9;
    rows[3].repetition_penalty = 1.5, rows[3].frequency_penalty = 0.5, rows[3].num_prompt = 2;
    rows[4].temperature = 0.9, rows[4].u = 0.5, rows[4].edits_end = 2;
    if (n > 5) rows[5].temperature = 1.0, rows[5].top_p = 0.8, rows[5].u = 0.7;
    const std::vector<LogitEdit> edits = {{7, kLogitBias, 9.f}, {3, kLogitBan, 0.f}};
    auto run = [&](const ExecCtx& c, std::vector<std::vector<float>>& res) {
      Tensor hist = IntsToDevice(c, {5, 9, 5, 17, 5, 9});
      std::vector<SampleRowParams> r = rows;
      r[3].history = hist.data<int32_t>(), r[3].num_history = 6;
      for (SampleRowParams& p : r) p.num_top_logprobs = 3;
      SampleOutputs out;
      using Out = std::tuple<Tensor*, Shape, DType>;
      for (auto [dst, shape, dt] : std::initializer_list<Out>{
               {&out.ids, Shape{n}, DType::kI32},
               {&out.logprobs, Shape{n}, DType::kF32},
               {&out.ranks, Shape{n}, DType::kI32},
               {&out.top_ids, Shape{n, 3}, DType::kI32},
               {&out.top_logprobs, Shape{n, 3}, DType::kF32}})
        *dst = ToDevice(c, Tensor::FromVector(std::vector<float>(shape.numel()), shape, dt));
      Status st = SampleRows(c, ToDevice(c, host), r, edits, {}, out);
      ASSERT_TRUE(st.ok()) << be.name << ": " << st.ToString();
      for (const Tensor* o : {&out.ids, &out.ranks, &out.top_ids, &out.logprobs, &out.top_logprobs})
        res.push_back(ToHost(c, *o).ToFloatVector());
    };
    std::vector<std::vector<float>> want, got;
    run(ExecCtx::Cpu(), want);
    run(be.ctx, got);
    ASSERT_EQ(got.size(), 5u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i], want[i]) << be.name << " output " << i;
    for (int i = 3; i < 5; ++i)
      for (size_t j = 0; j < want[i].size(); ++j)
        EXPECT_NEAR(got[i][j], want[i][j], 1e-4) << be.name << " output " << i;
  }
}

// Async scheduling: placeholders (negative ids) read the previous step's sampled ids on the
// device, and a Readback returns device outputs without a stream synchronisation.
TEST_P(ConformanceTest, FillPlaceholderIdsAndReadback) {
  const ExecCtx& c = GetParam().ctx;
  Tensor ids = IntsToDevice(c, {5, -1, 7, -3, -2, 0});
  Tensor prev = IntsToDevice(c, {40, 41, 42});
  ASSERT_TRUE(FillPlaceholderIds(c, ids, prev).ok());
  auto rb = Readback::Create(c.device);
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  Tensor floats = ToDevice(c, Tensor::FromVector({1.5f, -2.f}, Shape{2}));
  std::vector<Tensor> srcs = {ids, Tensor(), floats};
  ASSERT_TRUE((*rb)->Enqueue(c, srcs).ok());
  auto host = (*rb)->Wait();
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  ASSERT_EQ(host->size(), 3u);
  const int32_t* got = (*host)[0].data<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(got, got + 6), (std::vector<int32_t>{5, 40, 7, 42, 41, 0}));
  EXPECT_FALSE((*host)[1].defined());
  EXPECT_EQ((*host)[2].ToFloatVector(), (std::vector<float>{1.5f, -2.f}));
}

TEST(FillPlaceholderIdsTest, RejectsBadReferencesOnTheCpu) {
  ExecCtx c;
  Tensor ids = Tensor::FromInts({1, -4});
  Tensor prev = Tensor::FromInts({7, 8, 9});
  EXPECT_EQ(FillPlaceholderIds(c, ids, prev).code(), StatusCode::kInvalidArgument);
  Tensor floats = Tensor::FromVector({1.f}, Shape{1});
  EXPECT_EQ(FillPlaceholderIds(c, floats, prev).code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pagellm::ops

// Tensor parallelism end to end on the golden fixtures: every rank loads the model twice, alone
// (comm = null) and as its TP shard, drives both through the paged harness (prefill, chunked
// prefill through small blocks, batched decode) and checks that the TP logits match the
// single-rank ones within kTol and the greedy tokens are identical.
// Run with `mpirun -np 2` (tests/models/CMakeLists.txt). Built with PAGELLM_TP_TEST_NCCL, it
// runs on cuda:<rank> through the NCCL communicator and skips without two GPUs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "dist/communicator.h"
#include "model/decoder.h"
#include "model/model.h"
#include "model/testing/fixtures.h"
#include "model/testing/memory_weight_source.h"
#include "model/testing/paged_harness.h"
#include "tensor/buffer.h"
#ifdef PAGELLM_TP_TEST_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace pagellm {
namespace {

using testing::PagedHarness;
using Batch = std::vector<std::pair<int, std::vector<int32_t>>>;

struct TpEnv {
  std::shared_ptr<Communicator> comm;
  Device device = Device::Cpu();
  double tol = 1e-5;  // max |tp - single| / max(1, max |single|) per logits row
  std::string skip;   // non-empty: why these tests cannot run here
};

TpEnv MakeEnv() {
  TpEnv e;
  auto mpi = MakeMpiCommunicator();
  if (!mpi.ok()) {
    e.skip = mpi.status().ToString();
    return e;
  }
  if ((*mpi)->world_size() < 2) {
    e.skip = "needs at least 2 ranks (run under mpirun -np 2)";
    return e;
  }
#ifdef PAGELLM_TP_TEST_NCCL
  const int rank = (*mpi)->rank();
  Allocator* a = GetAllocator(Device::Cuda((*mpi)->world_size() - 1));
  if (a == nullptr || !a->GetMemoryInfo().ok()) {
    e.skip = "needs one CUDA device per rank";
    return e;
  }
  auto nccl = MakeNcclCommunicator(std::move(mpi).value(), rank);
  if (!nccl.ok()) {
    e.skip = nccl.status().ToString();
    return e;
  }
  e.comm = std::move(nccl).value();
  e.device = Device::Cuda(rank);
  e.tol = 1e-4;  // GPU GEMMs change their reduction order with the matrix shapes
#else
  e.comm = std::move(mpi).value();
#endif
  return e;
}

const TpEnv& Env() {
  static TpEnv env = MakeEnv();
  return env;
}

std::string FixtureDir(const std::string& name) {
  return testing::FixtureModelDir(name);
}

std::vector<std::vector<int32_t>> Prompts(const std::string& dir) {
  auto text = ReadFileToString(JoinPath(dir, "expected.json"));
  std::vector<std::vector<int32_t>> out;
  if (!text.ok()) return out;
  const nlohmann::json j = nlohmann::json::parse(*text);
  for (const auto& p : j["prompts"])
    out.push_back(p["ids"].get<std::vector<int32_t>>());
  return out;
}

double RowDiff(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, scale = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, double(std::abs(got[i] - want[i])));
    scale = std::max(scale, double(std::abs(want[i])));
  }
  return diff / scale;
}

// Specs no fixture covers (random weights, same seed on every rank): a vocabulary that does not
// split evenly (padded LM head and embedding shards), ALiBi slopes per rank, LM-head bias,
// shared-norm parallel residual, Gemma 2 sandwich norms and soft-capping.
std::map<std::string, ArchSpec> SyntheticSpecs() {
  DecoderSpec base;
  base.vocab_size = 97;
  base.hidden_size = 48;
  base.intermediate_size = 64;
  base.num_layers = 2;
  base.num_heads = 6;
  base.num_kv_heads = 2;
  base.head_dim = 8;
  base.max_position_embeddings = 128;
  base.norm.eps = 1e-5f;
  std::map<std::string, ArchSpec> out;
  {
    DecoderSpec s = base;
    s.num_kv_heads = 6;
    s.norm = {NormKind::kLayerNorm, 1e-5f, 0.f, true};
    s.position = PositionKind::kAlibi;
    s.qkv_layout = QkvLayout::kFusedPerHead;
    s.mlp = MlpKind::kPlain;
    s.activation = ops::Activation::kGeluTanh;
    s.embedding_norm = true;
    s.qkv_bias = s.o_bias = s.mlp_bias = true;
    s.tie_word_embeddings = true;
    WeightNames n;
    n.qkv_proj = "self_attn.qkv";
    n.embedding_norm = "model.embed_norm";
    out["synthetic_bloom_like"] = {s, n};
  }
  {
    DecoderSpec s = base;
    s.norm = {NormKind::kLayerNorm, 1e-5f, 0.f, true};
    s.rope_style = ops::RopeStyle::kGptj;
    s.rot_dim = 4;
    s.mlp = MlpKind::kPlain;
    s.parallel_residual = s.shared_input_norm = true;
    s.lm_head_bias = true;
    out["synthetic_gptj_like"] = {s, {}};
  }
  {
    DecoderSpec s = base;
    s.norm.weight_offset = 1.f;
    s.post_attn_output_norm = s.post_mlp_output_norm = true;
    s.attn_logit_softcap = 0.5f;
    s.final_logit_softcap = 2.f;
    s.sliding_window = {6, 0};
    WeightNames n;
    n.post_attn_output_norm = "post_attention_norm";
    n.post_mlp_output_norm = "post_feedforward_layernorm";
    out["synthetic_gemma2_like"] = {s, n};
  }
  return out;
}

std::vector<std::vector<int32_t>> RandomPrompts(int vocab) {
  std::mt19937_64 rng(11);
  std::vector<std::vector<int32_t>> out;
  for (int len : {5, 17, 30}) {
    std::vector<int32_t> p(static_cast<size_t>(len));
    for (int32_t& t : p) t = static_cast<int32_t>(rng() % vocab);
    out.push_back(p);
  }
  return out;
}

// Gap between the two largest logits: below the tolerance, the argmax is a tie.
double TopMargin(std::vector<float> v) {
  std::partial_sort(v.begin(), v.begin() + 2, v.end(), std::greater<float>());
  return v[0] - v[1];
}

class TensorParallelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!Env().skip.empty()) GTEST_SKIP() << Env().skip;
    auto synthetic = SyntheticSpecs();
    if (auto it = synthetic.find(GetParam()); it != synthetic.end()) {
      prompts_ = RandomPrompts(static_cast<int>(it->second.spec.vocab_size));
      auto weights = testing::RandomWeights(it->second.spec, it->second.names, 5);
      single_ = Build(it->second, weights, nullptr);
      tp_ = Build(it->second, weights, Env().comm);
    } else {
      dir_ = FixtureDir(GetParam());
      prompts_ = Prompts(dir_);
      if (prompts_.empty()) GTEST_SKIP() << "fixture " << dir_ << " not generated";
      single_ = Load(nullptr);
      tp_ = Load(Env().comm);
    }
    ASSERT_TRUE(single_ && tp_);
  }
  std::unique_ptr<Model> Build(const ArchSpec& arch, std::shared_ptr<const WeightSource> weights,
                               std::shared_ptr<Communicator> comm) {
    auto m = Decoder::Create(ModelConfig{}, arch, std::move(weights), DType::kF32, Env().device,
                             std::move(comm));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  std::unique_ptr<Model> Load(std::shared_ptr<Communicator> comm,
                              const std::string& dtype = "float32") {
    LoadOptions o;
    o.model_dir = dir_;
    o.dtype = dtype;
    o.device = Env().device;
    o.comm = std::move(comm);
    auto m = LoadModel(o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  // Runs one step on both models; checks every returned row; returns the single-rank rows.
  std::vector<std::vector<float>> StepBoth(PagedHarness& one, PagedHarness& tp, const Batch& b,
                                           bool last_only, const std::string& what) {
    auto want = one.Step(b, last_only);
    auto got = tp.Step(b, last_only);
    EXPECT_TRUE(want.ok()) << what << ": " << want.status().ToString();
    EXPECT_TRUE(got.ok()) << what << ": " << got.status().ToString();
    if (!want.ok() || !got.ok()) return {};
    EXPECT_EQ(got->size(), want->size()) << what;
    for (size_t r = 0; r < want->size() && r < got->size(); ++r) {
      EXPECT_LE(RowDiff((*got)[r], (*want)[r]), Env().tol) << what << " row " << r;
      if (TopMargin((*want)[r]) > 10 * Env().tol) {  // else a tie either way is right
        EXPECT_EQ(testing::ArgMax((*got)[r]), testing::ArgMax((*want)[r])) << what << " row " << r;
      }
    }
    return *want;
  }
  std::string dir_;
  std::vector<std::vector<int32_t>> prompts_;
  std::unique_ptr<Model> single_, tp_;
};

TEST_P(TensorParallelTest, ShardsKvHeadsAndKeepsFullVocab) {
  const int w = Env().comm->world_size();
  const int64_t hk = single_->kv_cache_spec().num_kv_heads;
  EXPECT_EQ(tp_->kv_cache_spec().num_kv_heads, hk >= w ? hk / w : 1);
  EXPECT_EQ(tp_->vocab_size(), single_->vocab_size());
}

TEST_P(TensorParallelTest, PrefillLogitsOfEveryTokenMatchSingleRank) {
  for (size_t i = 0; i < prompts_.size(); ++i) {
    PagedHarness one(single_.get(), 64, 16, i), tp(tp_.get(), 64, 16, i);
    StepBoth(one, tp, {{0, prompts_[i]}}, false, "prompt " + std::to_string(i));
  }
}

// Chunks of 13 tokens through 4-token blocks, then greedy decode: identical tokens.
TEST_P(TensorParallelTest, ChunkedPrefillGreedyMatchesSingleRank) {
  const std::vector<int32_t>& p = prompts_.back();
  PagedHarness one(single_.get(), 64, 4, 5), tp(tp_.get(), 64, 4, 5);
  auto want = one.Greedy(0, p, 8, /*chunk=*/13);
  auto got = tp.Greedy(0, p, 8, /*chunk=*/13);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, *want);
}

// Engine-like: every prompt prefilled in one step, then decoded together token by token (both
// models are fed the single-rank greedy tokens).
TEST_P(TensorParallelTest, BatchedDecodeMatchesSingleRank) {
  Batch batch;
  for (size_t i = 0; i < prompts_.size(); ++i) batch.push_back({static_cast<int>(i), prompts_[i]});
  PagedHarness one(single_.get(), 96, 16, 3), tp(tp_.get(), 96, 16, 3);
  for (int step = 0; step < 6; ++step) {
    auto rows = StepBoth(one, tp, batch, true, "step " + std::to_string(step));
    ASSERT_EQ(rows.size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) batch[i].second = {testing::ArgMax(rows[i])};
  }
}

// bf16 weights and activations: partial sums are rounded before the all-reduce, so the TP logits
// differ from the single-rank ones by bf16 rounding only.
TEST_P(TensorParallelTest, Bfloat16WithinRoundingOfSingleRank) {
  if (dir_.empty()) GTEST_SKIP() << "fixtures only";
  auto one = Load(nullptr, "bfloat16"), tp = Load(Env().comm, "bfloat16");
  ASSERT_TRUE(one && tp);
  ASSERT_EQ(tp->dtype(), DType::kBF16);
  PagedHarness h1(one.get(), 64, 16, 1), ht(tp.get(), 64, 16, 1);
  auto want = h1.Step({{0, prompts_.back()}}, true);
  auto got = ht.Step({{0, prompts_.back()}}, true);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_LE(RowDiff(got->back(), want->back()), 6e-2);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TensorParallelTest,
                         ::testing::Values("llama_gqa", "llama_mqa", "mistral_window",
                                           "llama3_rope", "qwen2_tied", "qwen3_qknorm",
                                           "gemma_v1", "gemma2_softcap", "phi3_fused",
                                           "gptneox_parallel", "opt_learned_pos", "gpt2_conv1d",
                                           "bigcode_mqa", "bloom_alibi", "synthetic_bloom_like",
                                           "synthetic_gptj_like", "synthetic_gemma2_like"),
                         [](const auto& info) { return info.param; });

TEST(TensorParallelLoadTest, HeadsThatDoNotSplitAreInvalidArgument) {
  if (!Env().skip.empty()) GTEST_SKIP() << Env().skip;
  auto config = LoadModelConfig(FixtureDir("llama_gqa"));
  if (!config.ok()) GTEST_SKIP() << "fixture llama_gqa not generated";
  config->num_attention_heads = config->num_key_value_heads = 3;
  config->head_dim = 16;
  auto m = BuildModel(*config, std::make_shared<testing::MemoryWeightSource>(), DType::kF32,
                      Env().device, Env().comm);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("num_attention_heads 3"), std::string::npos)
      << m.status().ToString();
}

}  // namespace
}  // namespace pagellm

// Golden tests: tiny random-weight HF checkpoints (tests/data/models/<name>, written by
// tools/fixtures/models/gen_model_fixtures.py) against the logits and greedy tokens that
// transformers computed for them in float32. Skips when a fixture is absent. The Cuda* variants
// run the same checks on cuda:0 (float32: same tolerance and greedy tokens; auto dtype = bf16
// within the bf16 tolerance) and skip when no GPU is visible.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "model/model.h"
#include "model/testing/fixtures.h"
#include "model/testing/paged_harness.h"
#include "tensor/buffer.h"

namespace pagellm {
namespace {

using testing::PagedHarness;

constexpr double kF32Tol = 1e-4;   // max |diff| / max |expected| over the vocab
constexpr double kBf16Tol = 6e-2;  // bf16 weights and activations (8-bit mantissa)
constexpr double kFragileMargin = 1e-3;  // greedy steps with a smaller top-2 gap are ties

struct Prompt {
  std::vector<int32_t> ids, greedy;
  std::vector<float> last_logits, margins;
};
struct Fixture {
  std::string dir;
  std::vector<Prompt> prompts;
  int all_index = 0;
  std::vector<std::vector<float>> all_logits;
};

std::string DataDir() { return testing::FixtureModelDir(); }

std::optional<Fixture> LoadFixture(const std::string& name) {
  Fixture f;
  f.dir = JoinPath(DataDir(), name);
  auto text = ReadFileToString(JoinPath(f.dir, "expected.json"));
  if (!text.ok()) return std::nullopt;
  auto j = nlohmann::json::parse(*text);
  for (const auto& p : j["prompts"]) {
    f.prompts.push_back({p["ids"].get<std::vector<int32_t>>(), p["greedy"].get<std::vector<int32_t>>(),
                         p["last_logits"].get<std::vector<float>>(),
                         p["greedy_margins"].get<std::vector<float>>()});
  }
  f.all_index = j["all_logits"]["prompt_index"].get<int>();
  f.all_logits = j["all_logits"]["logits"].get<std::vector<std::vector<float>>>();
  return f;
}

double RelErr(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, double(std::abs(got[i] - want[i])));
    scale = std::max(scale, double(std::abs(want[i])));
  }
  return diff / scale;
}

// Greedy tokens must match up to (and including) the first near-tie step.
void ExpectGreedyMatches(const std::vector<int32_t>& got, const Prompt& p, const std::string& what) {
  ASSERT_EQ(got.size(), p.greedy.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], p.greedy[i]) << what << " step " << i;
    if (got[i] != p.greedy[i] || p.margins[i] < kFragileMargin) break;
  }
}

// A CUDA build with a visible GPU (the allocator answers cudaMemGetInfo).
bool HaveCudaDevice() {
  Allocator* a = GetAllocator(Device::Cuda(0));
  return a != nullptr && a->GetMemoryInfo().ok();
}

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    fixture_ = LoadFixture(GetParam());
    if (!fixture_) GTEST_SKIP() << "fixture " << GetParam() << " not generated";
  }
  std::unique_ptr<Model> Load(const std::string& dtype, Device device = Device::Cpu()) {
    LoadOptions o;
    o.model_dir = fixture_->dir;
    o.dtype = dtype;
    o.device = device;
    auto m = LoadModel(o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  void Float32LogitsAndGreedy(Device device);
  void BatchedGreedyDecode(Device device);
  void ChunkedPrefillGreedyThroughSmallBlocks(Device device);
  void LowPrecisionWithinTolerance(const std::string& dtype, Device device);
  std::optional<Fixture> fixture_;
};

void GoldenTest::Float32LogitsAndGreedy(Device device) {
  auto model = Load("float32", device);
  ASSERT_TRUE(model);
  for (size_t i = 0; i < fixture_->prompts.size(); ++i) {
    const Prompt& p = fixture_->prompts[i];
    PagedHarness h(model.get(), 64, 16, i);
    auto rows = h.Step({{0, p.ids}});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_LT(RelErr(rows->back(), p.last_logits), kF32Tol) << "prompt " << i;
    if (static_cast<int>(i) == fixture_->all_index) {
      ASSERT_EQ(rows->size(), fixture_->all_logits.size());
      for (size_t t = 0; t < rows->size(); ++t)
        EXPECT_LT(RelErr((*rows)[t], fixture_->all_logits[t]), kF32Tol) << "position " << t;
    }
    PagedHarness g(model.get(), 64, 16, 100 + i);
    auto toks = g.Greedy(0, p.ids, static_cast<int>(p.greedy.size()));
    ASSERT_TRUE(toks.ok()) << toks.status().ToString();
    ExpectGreedyMatches(*toks, p, "prompt " + std::to_string(i));
  }
}

TEST_P(GoldenTest, Float32LogitsAndGreedy) { Float32LogitsAndGreedy(Device::Cpu()); }

TEST_P(GoldenTest, CudaFloat32LogitsAndGreedy) {
  if (!HaveCudaDevice()) GTEST_SKIP() << "no CUDA device";
  Float32LogitsAndGreedy(Device::Cuda(0));
}

void GoldenTest::ChunkedPrefillGreedyThroughSmallBlocks(Device device) {
  auto model = Load("float32", device);
  ASSERT_TRUE(model);
  const Prompt& p = fixture_->prompts.back();  // the longest prompt
  PagedHarness h(model.get(), 64, 4, 5);
  auto toks = h.Greedy(0, p.ids, static_cast<int>(p.greedy.size()), /*chunk=*/13);
  ASSERT_TRUE(toks.ok()) << toks.status().ToString();
  ExpectGreedyMatches(*toks, p, "chunked");
}

TEST_P(GoldenTest, ChunkedPrefillGreedyThroughSmallBlocks) {
  ChunkedPrefillGreedyThroughSmallBlocks(Device::Cpu());
}

TEST_P(GoldenTest, CudaChunkedPrefillGreedyThroughSmallBlocks) {
  if (!HaveCudaDevice()) GTEST_SKIP() << "no CUDA device";
  ChunkedPrefillGreedyThroughSmallBlocks(Device::Cuda(0));
}

TEST_P(GoldenTest, AllPromptsInOneBatch) {
  auto model = Load("float32");
  ASSERT_TRUE(model);
  std::vector<std::pair<int, std::vector<int32_t>>> batch;
  for (size_t i = 0; i < fixture_->prompts.size(); ++i)
    batch.push_back({static_cast<int>(i), fixture_->prompts[i].ids});
  PagedHarness h(model.get(), 64, 16, 9);
  auto rows = h.Step(batch, /*last_only=*/true);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  for (size_t i = 0; i < fixture_->prompts.size(); ++i)
    EXPECT_LT(RelErr((*rows)[i], fixture_->prompts[i].last_logits), kF32Tol) << "prompt " << i;
}

// Engine-like: all prompts prefilled in one step, then decoded together, one token each per step.
void GoldenTest::BatchedGreedyDecode(Device device) {
  auto model = Load("float32", device);
  ASSERT_TRUE(model);
  const size_t n = fixture_->prompts.size();
  std::vector<std::pair<int, std::vector<int32_t>>> batch;
  for (size_t i = 0; i < n; ++i) batch.push_back({static_cast<int>(i), fixture_->prompts[i].ids});
  PagedHarness h(model.get(), 96, 16, 3);
  std::vector<std::vector<int32_t>> got(n);
  const size_t steps = fixture_->prompts[0].greedy.size();
  for (size_t step = 0; step < steps; ++step) {
    auto rows = h.Step(batch, /*last_only=*/true);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    batch.clear();
    for (size_t i = 0; i < n; ++i) {
      got[i].push_back(testing::ArgMax((*rows)[i]));
      batch.push_back({static_cast<int>(i), {got[i].back()}});
    }
  }
  for (size_t i = 0; i < n; ++i)
    ExpectGreedyMatches(got[i], fixture_->prompts[i], "batched prompt " + std::to_string(i));
}

TEST_P(GoldenTest, BatchedGreedyDecode) { BatchedGreedyDecode(Device::Cpu()); }

TEST_P(GoldenTest, CudaBatchedGreedyDecode) {
  if (!HaveCudaDevice()) GTEST_SKIP() << "no CUDA device";
  BatchedGreedyDecode(Device::Cuda(0));
}

void GoldenTest::LowPrecisionWithinTolerance(const std::string& dtype, Device device) {
  auto model = Load(dtype, device);
  ASSERT_TRUE(model);
  ASSERT_EQ(model->dtype(), DType::kBF16);
  for (size_t i = 0; i < fixture_->prompts.size(); ++i) {
    const Prompt& p = fixture_->prompts[i];
    PagedHarness h(model.get(), 64, 16, i);
    auto rows = h.Step({{0, p.ids}}, true);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_LT(RelErr(rows->back(), p.last_logits), kBf16Tol) << "prompt " << i;
  }
}

TEST_P(GoldenTest, Bfloat16WithinTolerance) { LowPrecisionWithinTolerance("bfloat16", Device::Cpu()); }

// --dtype auto serves these float32 checkpoints in bf16 on CUDA.
TEST_P(GoldenTest, CudaAutoDTypeBfloat16WithinTolerance) {
  if (!HaveCudaDevice()) GTEST_SKIP() << "no CUDA device";
  LowPrecisionWithinTolerance("auto", Device::Cuda(0));
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenTest,
                         ::testing::Values("llama_gqa", "llama3_rope", "llama_mqa",
                                           "mistral_window", "qwen2_tied", "qwen3_qknorm",
                                           "gemma2_softcap", "phi3_fused", "gptneox_parallel",
                                           "gemma_v1", "bigcode_mqa", "gpt2_conv1d",
                                           "opt_learned_pos", "bloom_alibi",
                                           // arch1: Falcon, MPT, GPT-J, OPT variants.
                                           // falcon_alibi has a test of its own
                                           // (falcon_alibi_test.cc: transformers' eager path
                                           // counts ALiBi twice).
                                           "falcon_7b_style", "falcon_new_arch",
                                           "falcon_sequential", "mpt_alibi", "mpt_default",
                                           "gptj", "opt_postnorm", "opt_project",
                                           // Baichuan (built from Llama twins / a float64
                                           // ALiBi reference) and Mixtral MoE in both layouts.
                                           "baichuan7b", "baichuan2_normhead",
                                           "baichuan13b_alibi", "mixtral_moe",
                                           "mixtral_moe_stacked"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pagellm

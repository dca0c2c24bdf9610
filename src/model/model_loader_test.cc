#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "base/file.h"
#include "model/model.h"
#include "model/testing/paged_harness.h"

namespace pagellm {
namespace {

std::string TempModelDir(const std::string& config_json) {
  char tmpl[] = "/tmp/pagellm_model_XXXXXX";
  const char* dir = mkdtemp(tmpl);
  EXPECT_NE(dir, nullptr);
  EXPECT_TRUE(WriteStringToFile(JoinPath(dir, "config.json"), config_json).ok());
  return dir;
}

constexpr char kQwen2[] = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 64,
  "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
  "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16"})";

TEST(LoadModel, DummyWeightsRunForward) {
  LoadOptions o;
  o.model_dir = TempModelDir(kQwen2);
  o.load_format = LoadFormat::kDummy;
  auto m = LoadModel(o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->dtype(), DType::kBF16);  // "auto" follows torch_dtype
  EXPECT_EQ((*m)->kv_cache_spec().num_kv_heads, 2);
  testing::PagedHarness h(m->get(), 8, 16, 1);
  auto rows = h.Step({{0, {1, 2, 3}}}, true);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_EQ((*rows)[0].size(), 64u);
  for (float x : (*rows)[0]) EXPECT_TRUE(std::isfinite(x));
}

TEST(LoadModel, UnknownArchitectureIsUnimplemented) {
  std::string j = kQwen2;
  j.replace(j.find("Qwen2ForCausalLM"), 16, "NopeForCausalLM");
  LoadOptions o;
  o.model_dir = TempModelDir(j);
  o.load_format = LoadFormat::kDummy;
  auto m = LoadModel(o);
  EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(m.status().message().find("LlamaForCausalLM"), std::string::npos);
}

TEST(LoadModel, MissingDirectoryIsAnError) {
  LoadOptions o;
  o.model_dir = "/nonexistent/pagellm/model";
  EXPECT_FALSE(LoadModel(o).ok());
}

}  // namespace
}  // namespace pagellm

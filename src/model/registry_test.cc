#include "model/registry.h"

#include <gtest/gtest.h>

#include "model/model.h"

namespace pagellm {
namespace {

ModelConfig Parse(const std::string& json) {
  auto c = ParseModelConfig(json, "config.json");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : ModelConfig{};
}

constexpr char kLlama31[] = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128,
  "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
  "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "hidden_act": "silu",
  "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
  "torch_dtype": "bfloat16"})";

TEST(Registry, LlamaSpec) {
  auto a = ArchSpecForConfig(Parse(kLlama31));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->spec.num_kv_heads, 2);
  EXPECT_EQ(a->spec.head_dim, 16);
  EXPECT_EQ(a->spec.rope_scaling.type, "llama3");
  EXPECT_EQ(a->spec.rope_scaling.original_max_position_embeddings, 64);
  EXPECT_FLOAT_EQ(a->spec.norm.eps, 1e-5f);
  EXPECT_TRUE(a->spec.sliding_window.empty());
  EXPECT_FALSE(a->spec.qkv_bias);
  EXPECT_EQ(a->names.q_proj, "self_attn.q_proj");
  EXPECT_EQ(*ResolveDType("auto", Parse(kLlama31)), DType::kBF16);
  EXPECT_EQ(*ResolveDType("float32", Parse(kLlama31)), DType::kF32);
  EXPECT_FALSE(ResolveDType("int8", Parse(kLlama31)).ok());
}

TEST(Registry, MistralSlidingWindow) {
  std::string j = kLlama31;
  j.replace(j.find("LlamaForCausalLM"), 16, "MistralForCausalLM");
  j.insert(1, R"("sliding_window": 32,)");
  auto a = ArchSpecForConfig(Parse(j));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->spec.sliding_window, (std::vector<int32_t>{32, 32}));
}

TEST(Registry, Qwen2BiasTiedAndWindowRules) {
  std::string j = kLlama31;
  j.replace(j.find("LlamaForCausalLM"), 16, "Qwen2ForCausalLM");
  j.insert(1, R"("sliding_window": 32, "use_sliding_window": false, "tie_word_embeddings": true,)");
  auto a = ArchSpecForConfig(Parse(j));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->spec.qkv_bias);
  EXPECT_FALSE(a->spec.o_bias);
  EXPECT_TRUE(a->spec.tie_word_embeddings);
  EXPECT_TRUE(a->spec.sliding_window.empty());
  j.replace(j.find("\"use_sliding_window\": false"), 27, "\"use_sliding_window\": true, \"max_window_layers\": 1");
  a = ArchSpecForConfig(Parse(j));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->spec.sliding_window, (std::vector<int32_t>{0, 32}));
}

TEST(Registry, UnknownArchitectureListsSupported) {
  std::string j = kLlama31;
  j.replace(j.find("LlamaForCausalLM"), 16, "FooForCausalLM");
  auto a = ArchSpecForConfig(Parse(j));
  EXPECT_EQ(a.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(a.status().message().find("FooForCausalLM"), std::string::npos);
  EXPECT_NE(a.status().message().find("Qwen2ForCausalLM"), std::string::npos);
}

TEST(Registry, LayerTypesGiveAlternatingWindows) {
  std::string j = kLlama31;
  j.insert(1, R"("sliding_window": 16, "layer_types": ["sliding_attention", "full_attention"],)");
  auto a = ArchSpecForConfig(Parse(j));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->spec.sliding_window, (std::vector<int32_t>{16, 0}));
}

}  // namespace
}  // namespace pagellm

#include "model/config.h"

#include <gtest/gtest.h>

#include "model/dtype_policy.h"

namespace pagellm {
namespace {

ModelConfig Parse(const std::string& text) {
  auto c = ParseModelConfig(text, "config.json");
  CHECK(c.ok()) << c.status().ToString();
  return *std::move(c);
}

TEST(ConfigTest, Llama3) {
  ModelConfig c = Parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
    "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
    "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "head_dim": 64, "custom_key": 7, "some_flag": true, "some_str": "x", "some_float": 0.25})");
  EXPECT_EQ(c.architectures, std::vector<std::string>{"LlamaForCausalLM"});
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.torch_dtype, DType::kBF16);
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.factor, 32.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.GetInt("custom_key", 0), 7);
  EXPECT_EQ(c.GetInt("absent", 3), 3);
  EXPECT_TRUE(c.GetBool("some_flag", false));
  EXPECT_EQ(c.GetString("some_str", ""), "x");
  EXPECT_EQ(c.GetFloat("some_float", 0), 0.25);
  EXPECT_EQ(c.GetInt("some_str", 5), 5);  // wrong type -> default
}

TEST(ConfigTest, DefaultsAndAliases) {
  ModelConfig c = Parse(R"({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
                            "num_hidden_layers": 2, "vocab_size": 100, "num_key_value_heads": null,
                            "head_dim": null, "sliding_window": null, "eos_token_id": 2,
                            "dtype": "float16"})");
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_scaling.type, "none");
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_EQ(c.torch_dtype, DType::kF16);
  EXPECT_EQ(Parse(R"({"bos_token_id":[5,6]})").bos_token_id, 5);
  ModelConfig g = Parse(R"({"model_type": "gpt2", "n_embd": 32, "n_head": 2, "n_layer": 3, "n_positions": 64,
                            "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5})");
  EXPECT_EQ(g.hidden_size, 32);
  EXPECT_EQ(g.num_hidden_layers, 3);
  EXPECT_EQ(g.max_position_embeddings, 64);
  EXPECT_EQ(g.hidden_act, "gelu_new");
  EXPECT_TRUE(g.tie_word_embeddings);
  ModelConfig neox = Parse(R"({"model_type":"gpt_neox","rotary_pct":0.25,"rotary_emb_base":10000,
                               "hidden_size":64,"num_attention_heads":4})");
  EXPECT_EQ(neox.partial_rotary_factor, 0.25);
}

TEST(ConfigTest, SlidingWindow) {
  EXPECT_EQ(Parse(R"({"model_type":"mistral","sliding_window":4096})").sliding_window, 4096);
  EXPECT_EQ(Parse(R"({"model_type":"qwen2","sliding_window":131072,"use_sliding_window":false})").sliding_window, 0);
}

TEST(ConfigTest, RopeScalingKinds) {
  EXPECT_EQ(Parse(R"({"rope_scaling":{"type":"linear","factor":2.0}})").rope_scaling.type, "linear");
  EXPECT_EQ(Parse(R"({"rope_scaling":{"type":"dynamic","factor":2.0}})").rope_scaling.factor, 2.0);
  EXPECT_EQ(Parse(R"({"rope_scaling":null})").rope_scaling.type, "none");
  EXPECT_EQ(Parse(R"({"rope_scaling":{"rope_type":"default"}})").rope_scaling.type, "none");
  RopeScaling y = Parse(R"({"rope_scaling":{"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":32768,
                          "beta_fast":16,"mscale":0.707,"attention_factor":1.1}})").rope_scaling;
  EXPECT_EQ(y.type, "yarn");
  EXPECT_EQ(y.beta_fast, 16.0);
  EXPECT_EQ(y.beta_slow, 1.0);
  EXPECT_EQ(y.mscale, 0.707);
  EXPECT_FALSE(y.mscale_all_dim.has_value());
  EXPECT_EQ(y.attention_factor, 1.1);
  RopeScaling l = Parse(R"({"original_max_position_embeddings":4096,
     "rope_scaling":{"type":"su","short_factor":[1.0,1.1],"long_factor":[2.0,2.5]}})").rope_scaling;
  EXPECT_EQ(l.type, "longrope");
  EXPECT_EQ(l.long_factor, (std::vector<double>{2.0, 2.5}));
  EXPECT_EQ(l.original_max_position_embeddings, 4096);
  // transformers v5 rope_parameters, flat and per layer type.
  ModelConfig p = Parse(R"({"rope_parameters":{"rope_type":"linear","factor":3.0,"rope_theta":1e6}})");
  EXPECT_EQ(p.rope_theta, 1e6);
  EXPECT_EQ(p.rope_scaling.type, "linear");
  ModelConfig q = Parse(R"({"rope_parameters":{"full_attention":{"rope_type":"default","rope_theta":1e6},
                           "sliding_attention":{"rope_type":"default","rope_theta":1e4}}})");
  EXPECT_EQ(q.rope_theta, 1e6);
  EXPECT_EQ(q.rope_scaling.type, "none");
}

TEST(ConfigTest, DerivedMaxModelLen) {
  EXPECT_EQ(DerivedMaxModelLen(Parse(R"({"max_position_embeddings":4096})")), 4096);
  EXPECT_EQ(DerivedMaxModelLen(Parse(R"({})")), 2048);
  EXPECT_EQ(DerivedMaxModelLen(Parse(R"({"max_position_embeddings":4096,"seq_length":2048})")), 2048);
  EXPECT_EQ(DerivedMaxModelLen(Parse(R"({"max_position_embeddings":32768,"rope_scaling":
      {"type":"yarn","factor":4.0,"original_max_position_embeddings":32768}})")), 131072);
  EXPECT_EQ(DerivedMaxModelLen(Parse(R"({"max_position_embeddings":2048,"rope_scaling":
      {"type":"linear","factor":2.0}})")), 4096);
  EXPECT_EQ(DerivedMaxModelLen(Parse(R"({"max_position_embeddings":131072,"rope_scaling":
      {"rope_type":"llama3","factor":8.0,"original_max_position_embeddings":8192}})")), 131072);
}

TEST(ConfigTest, BadInputsNameFileAndKey) {
  struct Case { const char* text; StatusCode code; const char* needle; };
  const Case cases[] = {
      {"{bad", StatusCode::kInvalidArgument, "invalid JSON"},
      {"[1]", StatusCode::kInvalidArgument, "not a JSON object"},
      {R"({"hidden_size":"big"})", StatusCode::kInvalidArgument, "hidden_size"},
      {R"({"hidden_size":1.5})", StatusCode::kInvalidArgument, "hidden_size"},
      {R"({"hidden_size":-4})", StatusCode::kInvalidArgument, "negative"},
      {R"({"hidden_size":10,"num_attention_heads":3})", StatusCode::kInvalidArgument, "divisible"},
      {R"({"num_attention_heads":6,"num_key_value_heads":4,"head_dim":8})", StatusCode::kInvalidArgument, "multiple"},
      {R"({"eos_token_id":[1,"x"]})", StatusCode::kInvalidArgument, "eos_token_id"},
      {R"({"tie_word_embeddings":"yes"})", StatusCode::kInvalidArgument, "tie_word_embeddings"},
      {R"({"rope_scaling":{"type":"weird","factor":2}})", StatusCode::kUnimplemented, "weird"},
      {R"({"rope_scaling":{"type":"linear","factor":0}})", StatusCode::kInvalidArgument, "factor"},
      {R"({"rope_scaling":{"type":"longrope"}})", StatusCode::kInvalidArgument, "short_factor"},
      {R"({"rope_theta":-1})", StatusCode::kInvalidArgument, "rope_theta"},
      {R"({"architectures":"Llama"})", StatusCode::kInvalidArgument, "architectures"},
  };
  for (const Case& c : cases) {
    auto r = ParseModelConfig(c.text, "/m/config.json");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), c.code) << c.text << " -> " << r.status().ToString();
    EXPECT_NE(r.status().message().find("/m/config.json"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().ToString();
  }
  EXPECT_EQ(LoadModelConfig("/nonexistent_dir").status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, MultimodalTextConfig) {
  ModelConfig c = Parse(R"({"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3",
      "text_config":{"model_type":"gemma3_text","hidden_size":64,"num_attention_heads":4,"head_dim":32,
                     "num_hidden_layers":2,"vocab_size":10,"sliding_window":512}, "torch_dtype":"bfloat16"})");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_EQ(c.model_type, "gemma3");
}

TEST(ConfigTest, GenerationConfig) {
  auto g = ParseGenerationConfig(R"({"bos_token_id":1,"eos_token_id":[2,3],"temperature":0.6,"top_p":0.9,
                                     "top_k":20,"do_sample":true,"repetition_penalty":1.05})", "gen.json");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->eos_token_ids, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(g->temperature, 0.6);
  EXPECT_EQ(g->top_k, 20);
  EXPECT_EQ(g->do_sample, true);
  EXPECT_FALSE(g->min_p.has_value());
  EXPECT_FALSE(ParseGenerationConfig(R"({"top_k":"x"})", "gen.json").ok());
  auto empty = LoadGenerationConfig("/nonexistent_dir");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->eos_token_ids.empty());
}

TEST(DTypePolicyTest, VllmRules) {
  ModelConfig f32, bf16, none, i8;
  f32.torch_dtype = DType::kF32;
  bf16.torch_dtype = DType::kBF16;
  i8.torch_dtype = DType::kI8;
  EXPECT_EQ(*ResolveModelDType("auto", f32, Device::Cuda()), DType::kBF16);
  EXPECT_EQ(*ResolveModelDType("auto", f32, Device::Cpu()), DType::kF32);
  EXPECT_EQ(*ResolveModelDType("auto", bf16, Device::Cpu()), DType::kBF16);
  EXPECT_EQ(*ResolveModelDType("auto", none, Device::Cpu()), DType::kF32);
  EXPECT_EQ(*ResolveModelDType("auto", none, Device::Cuda()), DType::kBF16);
  EXPECT_EQ(*ResolveModelDType("auto", i8, Device::Cuda()), DType::kBF16);
  EXPECT_EQ(*ResolveModelDType("half", bf16, Device::Cuda()), DType::kF16);
  EXPECT_EQ(*ResolveModelDType("float", bf16, Device::Cuda()), DType::kF32);
  EXPECT_EQ(*ResolveModelDType("bfloat16", f32, Device::Cpu()), DType::kBF16);
  EXPECT_EQ(ResolveModelDType("int4", f32, Device::Cpu()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pagellm

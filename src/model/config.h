// ModelConfig: config.json parsed into typed fields once, at the edge (model/config.cc).
// GenerationConfig: generation_config.json. Fields not in the file keep the defaults below,
// which follow transformers' PretrainedConfig defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tensor/dtype.h"

namespace pagellm {

struct RopeScaling {
  // "none", "linear", "dynamic", "llama3", "yarn", "longrope" (rope_type or legacy "type").
  std::string type = "none";
  double factor = 1.0;
  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
  // yarn
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  std::optional<double> attention_factor;
  // longrope (Phi-3)
  std::vector<double> short_factor;
  std::vector<double> long_factor;
};

struct ModelConfig {
  std::vector<std::string> architectures;
  std::string model_type;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  int64_t max_position_embeddings = 2048;
  std::string hidden_act = "silu";
  double rms_norm_eps = 1e-6;
  double layer_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;
  RopeScaling rope_scaling;
  int64_t sliding_window = 0;  // 0 = none
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  std::optional<DType> torch_dtype;  // config's "torch_dtype" (or "dtype")
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // config's eos_token_id (int or list)
  std::optional<int64_t> pad_token_id;

  nlohmann::json raw;  // the whole file, for architecture-specific keys

  // Value of an integer/float/bool key in `raw`, or `def` when absent or null.
  int64_t GetInt(const std::string& key, int64_t def) const;
  double GetFloat(const std::string& key, double def) const;
  bool GetBool(const std::string& key, bool def) const;
  std::string GetString(const std::string& key, const std::string& def) const;
};

struct GenerationConfig {
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> pad_token_id;
  // Default sampling parameters a model ships (vLLM applies these unless the request overrides).
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k, max_new_tokens;
  std::optional<bool> do_sample;
  nlohmann::json raw;
};

// Parses config.json text; `source` names the file in error messages.
StatusOr<ModelConfig> ParseModelConfig(const std::string& text, const std::string& source);
StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir);
StatusOr<GenerationConfig> ParseGenerationConfig(const std::string& text, const std::string& source);
// The longest context the model supports, as vLLM derives it: the smallest of the length keys
// present (max_position_embeddings, n_positions, max_seq_len, seq_length, model_max_length,
// max_sequence_length, max_seq_length, seq_len; 2048 when none), times rope_scaling's factor
// for linear/dynamic/yarn scaling (yarn starts from original_max_position_embeddings).
int64_t DerivedMaxModelLen(const ModelConfig& config);

// Missing generation_config.json is not an error: returns an empty GenerationConfig.
StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& model_dir);

}  // namespace pagellm

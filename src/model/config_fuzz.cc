// Fuzz target: config.json and generation_config.json parsing.
#include "model/checkpoint_fuzz.h"
#include "model/config.h"

#include <spdlog/spdlog.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] { spdlog::set_level(spdlog::level::off); return true; }();
  (void)quiet;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = pagellm::ParseModelConfig(text, "fuzz.json");
  if (c.ok()) (void)c->GetInt("hidden_size", 0);
  (void)pagellm::ParseGenerationConfig(text, "fuzz.json");
  return 0;
}

namespace pagellm::fuzz {
std::vector<std::string> Seeds() {
  return {
      R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":32000,"hidden_size":4096,
          "intermediate_size":11008,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
          "rms_norm_eps":1e-6,"rope_theta":500000.0,"torch_dtype":"bfloat16","eos_token_id":[1,2],
          "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
          "original_max_position_embeddings":8192},"tie_word_embeddings":false,"sliding_window":null})",
      R"({"model_type":"phi3","hidden_size":96,"num_attention_heads":4,"original_max_position_embeddings":4096,
          "rope_scaling":{"type":"longrope","short_factor":[1,1,1],"long_factor":[2,2,2]},"partial_rotary_factor":0.5})",
      R"({"model_type":"qwen2","rope_scaling":{"type":"yarn","factor":4,"beta_fast":32,"mscale":1},
          "use_sliding_window":false,"sliding_window":4096,"temperature":0.7,"top_k":20,"do_sample":true})",
      R"({"text_config":{"hidden_size":64,"num_attention_heads":4},"rope_parameters":{"full_attention":
          {"rope_type":"linear","factor":2,"rope_theta":1e6}},"dtype":"float16"})",
  };
}
}  // namespace pagellm::fuzz

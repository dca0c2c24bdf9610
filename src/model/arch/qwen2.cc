// Qwen2ForCausalLM: the Llama layout with q/k/v biases (no o_proj bias), usually tied
// embeddings on small models, and sliding windows only when use_sliding_window is set (then
// for layers >= max_window_layers, unless the config lists layer_types).
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> Qwen2(const ModelConfig& config) {
  ASSIGN_OR_RETURN(ArchSpec a, LlamaFamily(config));
  DecoderSpec& s = a.spec;
  s.qkv_bias = true;
  s.o_bias = false;
  const bool has_layer_types = config.raw.is_object() && config.raw.contains("layer_types");
  if (!config.GetBool("use_sliding_window", false) || config.sliding_window <= 0) {
    s.sliding_window.clear();
  } else if (!has_layer_types) {
    const int64_t first = config.GetInt("max_window_layers", s.num_layers);
    s.sliding_window.assign(static_cast<size_t>(s.num_layers), 0);
    for (int64_t l = first; l < s.num_layers; ++l)
      s.sliding_window[static_cast<size_t>(l)] = static_cast<int32_t>(config.sliding_window);
  }
  return a;
}

}  // namespace pagellm::arch

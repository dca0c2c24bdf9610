// Qwen3ForCausalLM: the Qwen2 layout without q/k/v biases (attention_bias, default false) and
// with per-head RMSNorm of q and k before rotary (q_norm / k_norm, weights [head_dim]).
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> Qwen3(const ModelConfig& config) {
  ASSIGN_OR_RETURN(ArchSpec a, Qwen2(config));  // sliding-window rules as Qwen2
  a.spec.qkv_bias = config.attention_bias;
  a.spec.o_bias = config.attention_bias;
  a.spec.qk_norm = true;
  a.names.q_norm = "self_attn.q_norm";
  a.names.k_norm = "self_attn.k_norm";
  return a;
}

}  // namespace pagellm::arch

// Phi3ForCausalLM: the Llama layout with fused projections: self_attn.qkv_proj rows [q; k; v]
// and mlp.gate_up_proj rows [gate; up]; partial rotary (partial_rotary_factor) and LongRoPE
// scaling come through the config.
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> Phi3(const ModelConfig& config) {
  ASSIGN_OR_RETURN(ArchSpec a, LlamaFamily(config));
  a.spec.qkv_layout = QkvLayout::kFusedConcat;
  a.names.qkv_proj = "self_attn.qkv_proj";
  a.names.gate_up_proj = "mlp.gate_up_proj";
  return a;
}

}  // namespace pagellm::arch

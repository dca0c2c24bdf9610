// MistralForCausalLM: the Llama layout plus sliding-window attention (config sliding_window,
// null for Mistral v0.2+ which attends fully).
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> Mistral(const ModelConfig& config) {
  // BaseSpecFromConfig already maps sliding_window (or layer_types) onto every layer.
  ASSIGN_OR_RETURN(ArchSpec a, LlamaFamily(config));
  a.spec.qkv_bias = false;
  a.spec.o_bias = false;
  return a;
}

}  // namespace pagellm::arch

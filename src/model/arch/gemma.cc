// GemmaForCausalLM (Gemma 1): the Llama layout with RMSNorm (1 + w), embeddings scaled by
// sqrt(hidden_size), a GELU-tanh gated MLP (hidden_activation; legacy configs saying
// hidden_act "gelu" still mean the tanh approximation), explicit head_dim, tied embeddings.
#include <cmath>

#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> Gemma(const ModelConfig& config) {
  ASSIGN_OR_RETURN(ArchSpec a, LlamaFamily(config));
  DecoderSpec& s = a.spec;
  s.norm.weight_offset = 1.f;
  s.embedding_scale = std::sqrt(static_cast<float>(s.hidden_size));
  ASSIGN_OR_RETURN(s.activation,
                   ActivationFromName(config.GetString("hidden_activation", "gelu_pytorch_tanh")));
  return a;
}

}  // namespace pagellm::arch

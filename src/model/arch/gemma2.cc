// Gemma2ForCausalLM: RMSNorm with (1 + w), embeddings scaled by sqrt(hidden_size), GELU-tanh
// gated MLP, "sandwich" norms around attention and MLP, attention scale from
// query_pre_attn_scalar, attention and final-logit soft-capping, sliding windows on alternate
// layers (even layers, or as `layer_types` says), tied embeddings.
#include <cmath>

#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> Gemma2(const ModelConfig& config) {
  ASSIGN_OR_RETURN(ArchSpec a, LlamaFamily(config));
  DecoderSpec& s = a.spec;
  s.norm.weight_offset = 1.f;
  s.embedding_scale = std::sqrt(static_cast<float>(s.hidden_size));
  // Gemma configs name the MLP activation hidden_activation (hidden_act is legacy).
  ASSIGN_OR_RETURN(s.activation,
                   ActivationFromName(config.GetString("hidden_activation", "gelu_pytorch_tanh")));
  s.post_attn_output_norm = true;
  s.post_mlp_output_norm = true;
  const double qpas = config.GetFloat("query_pre_attn_scalar", static_cast<double>(s.head_dim));
  if (qpas <= 0) return InvalidArgumentError("query_pre_attn_scalar must be positive");
  s.attn_scale = static_cast<float>(1.0 / std::sqrt(qpas));
  s.attn_logit_softcap = static_cast<float>(config.GetFloat("attn_logit_softcapping", 0.0));
  s.final_logit_softcap = static_cast<float>(config.GetFloat("final_logit_softcapping", 0.0));
  const bool has_layer_types = config.raw.is_object() && config.raw.contains("layer_types");
  if (!has_layer_types && config.sliding_window > 0) {
    s.sliding_window.assign(static_cast<size_t>(s.num_layers), 0);
    for (int64_t l = 0; l < s.num_layers; l += 2)
      s.sliding_window[static_cast<size_t>(l)] = static_cast<int32_t>(config.sliding_window);
  }
  a.names.post_attn_output_norm = "post_attention_layernorm";
  a.names.post_attn_norm = "pre_feedforward_layernorm";
  a.names.post_mlp_output_norm = "post_feedforward_layernorm";
  return a;
}

}  // namespace pagellm::arch

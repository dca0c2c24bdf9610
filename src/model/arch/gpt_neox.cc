// GPTNeoXForCausalLM (Pythia, GPT-NeoX-20B): LayerNorm with bias, fused per-head q/k/v
// (attention.query_key_value rows [head][q, k, v][D]), partial NeoX rotary (rotary_pct),
// plain GELU MLP, biases everywhere, parallel residual (use_parallel_residual) with two norms.
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> GptNeox(const ModelConfig& config) {
  ArchSpec a;
  ASSIGN_OR_RETURN(a.spec, BaseSpecFromConfig(config));
  DecoderSpec& s = a.spec;
  s.num_kv_heads = s.num_heads;  // multi-head attention only
  s.norm = NormSpec{NormKind::kLayerNorm, static_cast<float>(config.layer_norm_eps), 0.f, true};
  // Older configs spell the rotary knobs rotary_pct / rotary_emb_base.
  const double pct = config.GetFloat("rotary_pct", config.partial_rotary_factor);
  s.rot_dim = static_cast<int64_t>(s.head_dim * pct);
  s.rope_theta = config.GetFloat("rotary_emb_base", config.rope_theta);
  s.qkv_layout = QkvLayout::kFusedPerHead;
  s.qkv_bias = s.o_bias = config.GetBool("attention_bias", true);
  s.mlp = MlpKind::kPlain;
  s.mlp_bias = true;
  s.parallel_residual = config.GetBool("use_parallel_residual", true);
  WeightNames& n = a.names;
  n.embed_tokens = "gpt_neox.embed_in";
  n.final_norm = "gpt_neox.final_layer_norm";
  n.lm_head = "embed_out";
  n.layer_prefix = "gpt_neox.layers.{}.";
  n.qkv_proj = "attention.query_key_value";
  n.o_proj = "attention.dense";
  n.up_proj = "mlp.dense_h_to_4h";
  n.down_proj = "mlp.dense_4h_to_h";
  return a;
}

}  // namespace pagellm::arch

// GPTBigCodeForCausalLM (StarCoder, SantaCoder): GPT-2 style blocks with nn.Linear weights:
// LayerNorm with bias, learned absolute positions (transformer.wpe), fused c_attn (multi-query:
// rows [q; k; v] with one kv head; otherwise per-head [q, k, v]), plain GELU MLP, biases
// everywhere, tied embeddings.
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> GptBigCode(const ModelConfig& config) {
  ArchSpec a;
  ASSIGN_OR_RETURN(a.spec, BaseSpecFromConfig(config));
  DecoderSpec& s = a.spec;
  const bool mqa = config.GetBool("multi_query", true);
  s.num_kv_heads = mqa ? 1 : s.num_heads;
  if (s.intermediate_size <= 0) s.intermediate_size = 4 * s.hidden_size;  // n_inner: null
  s.norm = NormSpec{NormKind::kLayerNorm, static_cast<float>(config.layer_norm_eps), 0.f, true};
  s.position = PositionKind::kLearned;
  s.sliding_window.clear();
  s.qkv_layout = mqa ? QkvLayout::kFusedConcat : QkvLayout::kFusedPerHead;
  s.qkv_bias = s.o_bias = s.mlp_bias = true;
  s.mlp = MlpKind::kPlain;
  ASSIGN_OR_RETURN(s.activation,
                   ActivationFromName(config.GetString("activation_function", config.hidden_act)));
  WeightNames& n = a.names;
  n.embed_tokens = "transformer.wte";
  n.embed_positions = "transformer.wpe";
  n.final_norm = "transformer.ln_f";
  n.layer_prefix = "transformer.h.{}.";
  n.input_norm = "ln_1";
  n.post_attn_norm = "ln_2";
  n.qkv_proj = "attn.c_attn";
  n.o_proj = "attn.c_proj";
  n.up_proj = "mlp.c_fc";
  n.down_proj = "mlp.c_proj";
  return a;
}

}  // namespace pagellm::arch

// LlamaForCausalLM: RMSNorm, rotary (NeoX halves; Llama 3.1 "llama3" frequency scaling),
// GQA, SwiGLU MLP; optional attention/MLP biases (attention_bias, mlp_bias).
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> LlamaFamily(const ModelConfig& config) {
  ArchSpec a;
  ASSIGN_OR_RETURN(a.spec, BaseSpecFromConfig(config));
  DecoderSpec& s = a.spec;
  s.norm.kind = NormKind::kRmsNorm;
  s.position = PositionKind::kRotary;
  s.rope_style = ops::RopeStyle::kNeox;
  s.mlp = MlpKind::kGated;
  s.qkv_layout = QkvLayout::kSplit;
  // WeightNames defaults are the Llama names (model.layers.{i}.self_attn.q_proj, ...).
  return a;
}

StatusOr<ArchSpec> Llama(const ModelConfig& config) { return LlamaFamily(config); }

}  // namespace pagellm::arch

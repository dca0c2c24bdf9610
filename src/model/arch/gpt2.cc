// GPT2LMHeadModel: the GPT-BigCode block layout with multi-head attention, q/k/v concatenated
// in c_attn, Conv1D weights stored [in, out], and checkpoints that may omit "transformer.".
#include "model/arch/arch.h"

namespace pagellm::arch {

StatusOr<ArchSpec> Gpt2(const ModelConfig& config) {
  ASSIGN_OR_RETURN(ArchSpec a, GptBigCode(config));
  a.spec.num_kv_heads = a.spec.num_heads;
  a.spec.qkv_layout = QkvLayout::kFusedConcat;
  if (config.GetBool("scale_attn_by_inverse_layer_idx", false))
    return UnimplementedError("GPT-2 scale_attn_by_inverse_layer_idx is not supported");
  a.names.transposed_linear = true;
  a.names.optional_prefix = "transformer.";
  return a;
}

}  // namespace pagellm::arch

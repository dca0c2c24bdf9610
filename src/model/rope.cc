#include "model/rope.h"

#include "ops/rope_table.h"

namespace pagellm {

RopeScalingParams ToRopeScalingParams(const DecoderSpec& spec) {
  const RopeScaling& r = spec.rope_scaling;
  RopeScalingParams p;
  p.type = r.type == "none" ? "default" : r.type;
  p.factor = r.factor;
  p.attention_factor = r.attention_factor.value_or(0.0);
  p.beta_fast = r.beta_fast;
  p.beta_slow = r.beta_slow;
  p.mscale = r.mscale.value_or(0.0);
  p.mscale_all_dim = r.mscale_all_dim.value_or(0.0);
  p.low_freq_factor = r.low_freq_factor;
  p.high_freq_factor = r.high_freq_factor;
  p.original_max_position_embeddings = r.original_max_position_embeddings;
  p.max_position_embeddings = spec.max_position_embeddings;
  p.short_factor = r.short_factor;
  p.long_factor = r.long_factor;
  return p;
}

StatusOr<Tensor> BuildRotaryTable(const DecoderSpec& spec, int64_t max_positions) {
  return BuildRopeCosSin(static_cast<int>(spec.rotary_dim()), static_cast<int>(max_positions),
                         spec.rope_theta, ToRopeScalingParams(spec));
}

}  // namespace pagellm

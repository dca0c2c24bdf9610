// Host-side rotary tables: folds every HF `rope_scaling` type into one cos/sin table, following
// transformers' ROPE_INIT_FUNCTIONS (modeling_rope_utils.py) including its float32 rounding:
// inv_freq is computed with float32 operations in the order torch performs them, and
// cos/sin(float32(position * inv_freq)) are rounded to float32 and multiplied by the attention
// factor (yarn / longrope) in float32.
//
// Dynamic NTK and LongRoPE depend on the current sequence length in transformers (the table is
// rebuilt when the sequence grows past the original context). `seq_len` selects that length:
// with seq_len <= max/original_max_position_embeddings (the default 0) the table is exactly
// transformers' for every such sequence; pass the longest sequence length to reproduce
// transformers for longer ones (it then applies to all positions, as in transformers).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/tensor.h"

namespace pagellm {

struct RopeScalingParams {
  // "default" (or "" / "none"), "linear", "dynamic", "yarn", "longrope", "llama3".
  std::string type = "default";
  double factor = 1.0;
  double attention_factor = 0.0;              // yarn / longrope; 0 = derive it as transformers does
  double beta_fast = 32.0, beta_slow = 1.0;   // yarn
  double mscale = 0.0, mscale_all_dim = 0.0;  // yarn (DeepSeek style); 0 = unset
  bool truncate = true;                       // yarn: floor/ceil the correction range
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  // llama3 / yarn: rope_scaling.original_max_position_embeddings (yarn falls back to
  // max_position_embeddings). longrope: the config's top-level field (Phi-3), 0 if absent.
  int64_t original_max_position_embeddings = 0;
  int64_t max_position_embeddings = 0;  // config.max_position_embeddings (dynamic/yarn/longrope)
  std::vector<double> short_factor, long_factor;  // longrope, rot_dim / 2 entries each
  int64_t seq_len = 0;                            // dynamic / longrope, see above
};

// inv_freq[rot_dim / 2] and the attention factor (cos/sin multiplier) for the scaling type.
struct RopeFrequencies {
  std::vector<float> inv_freq;
  float attention_factor = 1.f;
};
StatusOr<RopeFrequencies> ComputeRopeFrequencies(int rot_dim, double theta,
                                                 const RopeScalingParams& params);

// f32 [max_positions, rot_dim]: columns [0, rot_dim/2) cos, [rot_dim/2, rot_dim) sin, the layout
// ops::ApplyRotary reads (for both NeoX and GPT-J styles).
StatusOr<Tensor> BuildRopeCosSin(int rot_dim, int max_positions, double theta,
                                 const RopeScalingParams& params);

}  // namespace pagellm

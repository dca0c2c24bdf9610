// The rotary cos/sin table of a DecoderSpec (config rope_theta / rope_scaling mapped onto the
// table builder of ops/rope_table.h).
#pragma once

#include "base/status.h"
#include "model/decoder_spec.h"
#include "tensor/tensor.h"

namespace pagellm {

// Host f32 [max_positions, rotary_dim]: first half cos, second half sin (the ApplyRotary
// convention), with scaling (linear, llama3, yarn, ...) folded in. Unsupported scaling types
// are Unimplemented.
StatusOr<Tensor> BuildRotaryTable(const DecoderSpec& spec, int64_t max_positions);

}  // namespace pagellm

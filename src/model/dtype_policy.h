// The model's compute dtype from --dtype and config.json, following vLLM's rules.
#pragma once

#include <string>

#include "model/config.h"
#include "tensor/device.h"

namespace pagellm {

// flag: auto | float32 | float | float16 | half | bfloat16.
// auto: the config's torch_dtype (float32 when absent); on CUDA a float32 checkpoint is served
// as bfloat16 (vLLM's rule); on the CPU the config dtype is kept. Non-float config dtypes
// (quantized checkpoints) fall back to bfloat16 on CUDA and float32 on the CPU.
// Errors: InvalidArgument for an unknown flag.
StatusOr<DType> ResolveModelDType(const std::string& flag, const ModelConfig& config, Device device);

}  // namespace pagellm

#include "model/dtype_policy.h"

namespace pagellm {

StatusOr<DType> ResolveModelDType(const std::string& flag, const ModelConfig& config, Device device) {
  if (flag == "float32" || flag == "float" || flag == "fp32") return DType::kF32;
  if (flag == "float16" || flag == "half" || flag == "fp16") return DType::kF16;
  if (flag == "bfloat16" || flag == "bf16") return DType::kBF16;
  if (flag != "auto")
    return InvalidArgumentError("unknown --dtype '" + flag +
                                "' (expected auto, float32, float, float16, half or bfloat16)");
  DType d = config.torch_dtype.value_or(DType::kF32);
  if (d != DType::kF32 && d != DType::kF16 && d != DType::kBF16)
    d = device.is_cuda() ? DType::kBF16 : DType::kF32;
  if (device.is_cuda() && d == DType::kF32) d = DType::kBF16;
  return d;
}

}  // namespace pagellm

// LoadModel / BuildModel: config → registry → weights → Decoder.
#include <fmt/format.h>

#include "model/decoder.h"
#include "model/decoder_weights.h"
#include "model/model.h"
#include "model/registry.h"

namespace pagellm {

StatusOr<DType> ResolveDType(const std::string& dtype, const ModelConfig& config) {
  if (dtype == "auto") {
    if (config.torch_dtype && (*config.torch_dtype == DType::kF32 ||
                               *config.torch_dtype == DType::kF16 ||
                               *config.torch_dtype == DType::kBF16))
      return *config.torch_dtype;
    return DType::kF32;
  }
  if (dtype == "half") return DType::kF16;
  if (dtype == "float") return DType::kF32;
  StatusOr<DType> t = ParseDType(dtype);
  if (!t.ok() || !(*t == DType::kF32 || *t == DType::kF16 || *t == DType::kBF16))
    return InvalidArgumentError(fmt::format(
        "--dtype '{}' not supported (auto, float32, bfloat16, float16)", dtype));
  return *t;
}

StatusOr<std::unique_ptr<Model>> BuildModel(const ModelConfig& config,
                                            std::shared_ptr<const WeightSource> weights,
                                            DType dtype, Device device) {
  ASSIGN_OR_RETURN(ArchSpec arch, ArchSpecForConfig(config));
  ASSIGN_OR_RETURN(std::unique_ptr<Decoder> d,
                   Decoder::Create(config, arch, std::move(weights), dtype, device));
  return std::unique_ptr<Model>(std::move(d));
}

StatusOr<std::unique_ptr<Model>> LoadModel(const LoadOptions& options) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(options.model_dir));
  ASSIGN_OR_RETURN(ArchSpec arch, ArchSpecForConfig(config));
  ASSIGN_OR_RETURN(DType dtype, ResolveDType(options.dtype, config));
  std::shared_ptr<const WeightSource> source;
  if (options.load_format == LoadFormat::kDummy) {
    source = MakeDummyWeightSource(ExpectedTensors(arch.spec, arch.names, dtype), options.seed);
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<WeightSource> ckpt,
                     OpenCheckpoint(options.model_dir, options.load_format));
    source = std::move(ckpt);
  }
  StatusOr<std::unique_ptr<Decoder>> d =
      Decoder::Create(config, arch, std::move(source), dtype, options.device);
  if (!d.ok()) return d.status().WithContext(options.model_dir);
  return std::unique_ptr<Model>(std::move(d).value());
}

}  // namespace pagellm

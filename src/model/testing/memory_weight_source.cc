#include "model/testing/memory_weight_source.h"

#include <random>

#include "model/decoder_weights.h"

namespace pagellm::testing {

std::shared_ptr<MemoryWeightSource> RandomWeights(const DecoderSpec& spec, const WeightNames& names,
                                                  uint64_t seed, float stddev) {
  auto src = std::make_shared<MemoryWeightSource>();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (const TensorInfo& info : ExpectedTensors(spec, names, DType::kF32)) {
    const bool vec = info.shape.rank() == 1;
    const bool is_bias = info.name.size() > 5 && info.name.ends_with(".bias");
    std::vector<float> v(static_cast<size_t>(info.shape.numel()));
    for (float& x : v) {
      if (vec && !is_bias) x = 1.f + 0.1f * normal(rng);  // norm weights
      else if (vec) x = 0.1f * normal(rng);
      else x = stddev * normal(rng);
    }
    src->Put(info.name, Tensor::FromVector(v, info.shape));
  }
  return src;
}

}  // namespace pagellm::testing

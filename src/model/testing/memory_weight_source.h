// Test helpers: an in-memory WeightSource and seeded random weights for a DecoderSpec.
#pragma once

#include <map>
#include <string>

#include "model/decoder_spec.h"
#include "model/weight_source.h"

namespace pagellm::testing {

class MemoryWeightSource : public WeightSource {
 public:
  void Put(const std::string& name, Tensor t) { tensors_[name] = std::move(t); }
  bool Has(const std::string& name) const override { return tensors_.count(name) > 0; }
  StatusOr<TensorInfo> Info(const std::string& name) const override {
    ASSIGN_OR_RETURN(Tensor t, Get(name));
    return TensorInfo{name, t.dtype(), t.shape()};
  }
  StatusOr<Tensor> Get(const std::string& name) const override {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) return NotFoundError("no tensor " + name + " in memory source");
    return it->second;
  }
  std::vector<std::string> Names() const override {
    std::vector<std::string> out;
    for (const auto& [k, v] : tensors_) out.push_back(k);
    return out;
  }

 private:
  std::map<std::string, Tensor> tensors_;
};

// Every tensor the spec reads, f32, seeded: norm weights 1 + 0.1 N(0,1) (LayerNorm biases and
// other biases 0.1 N(0,1)), matrices N(0, stddev^2).
std::shared_ptr<MemoryWeightSource> RandomWeights(const DecoderSpec& spec, const WeightNames& names,
                                                  uint64_t seed, float stddev = 0.1f);

}  // namespace pagellm::testing

// MakeDummyWeightSource: deterministic random weights, generated on first Get and cached.
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "model/weight_source.h"

namespace pagellm {
namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t HashName(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// Norm weights near 1 and everything else small (±0.02, like common init std) keep a forward
// pass finite and its activations in a realistic range; every element depends only on
// (seed, name, index), so results do not depend on threads or call order.
void Fill(const TensorInfo& info, uint64_t seed, Tensor* t) {
  const int64_t n = t->numel();
  if (!IsFloating(info.dtype) || info.dtype == DType::kFP8E4M3) {
    if (t->nbytes() > 0) std::memset(t->data(), 0, t->nbytes());
    return;
  }
  const bool norm = info.shape.rank() == 1 && Contains(info.name, "norm") && !Contains(info.name, "bias");
  const float center = norm ? 1.0f : 0.0f, scale = 0.02f;
  const uint64_t key = SplitMix(seed ^ HashName(info.name));
#pragma omp parallel for if (n > (1 << 16)) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    uint64_t r = SplitMix(key + static_cast<uint64_t>(i));
    float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    StoreFromFloat(t->data(), info.dtype, i, center + scale * (2.0f * u - 1.0f));
  }
}

class DummyWeightSource : public WeightSource {
 public:
  DummyWeightSource(std::vector<TensorInfo> tensors, uint64_t seed) : seed_(seed) {
    for (auto& t : tensors) {
      order_.push_back(t.name);
      infos_.emplace(t.name, std::move(t));
    }
  }
  bool Has(const std::string& name) const override { return infos_.count(name) > 0; }
  StatusOr<TensorInfo> Info(const std::string& name) const override {
    auto it = infos_.find(name);
    if (it == infos_.end()) return NotFoundError("dummy weights: no tensor '" + name + "'");
    return it->second;
  }
  StatusOr<Tensor> Get(const std::string& name) const override {
    ASSIGN_OR_RETURN(TensorInfo info, Info(name));
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
    // Generated under the lock: a concurrent Get for the same name waits instead of racing.
    ASSIGN_OR_RETURN(Tensor t, Tensor::Empty(info.shape, info.dtype, Device::Cpu()));
    Fill(info, seed_, &t);
    cache_.emplace(name, t);
    return t;
  }
  std::vector<std::string> Names() const override { return order_; }
  std::string Describe() const override { return "dummy weights"; }

 private:
  uint64_t seed_;
  std::unordered_map<std::string, TensorInfo> infos_;
  std::vector<std::string> order_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Tensor> cache_;
};

}  // namespace

std::unique_ptr<WeightSource> MakeDummyWeightSource(std::vector<TensorInfo> tensors, uint64_t seed) {
  return std::make_unique<DummyWeightSource>(std::move(tensors), seed);
}

}  // namespace pagellm

// Helpers behind OpenCheckpoint (weight_source.h), exposed for tests and tools.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/weight_source.h"

namespace pagellm {

// Several checkpoint files seen as one source. A name maps to the file that holds it.
// Duplicate names across files are DataLoss naming both files.
class MultiFileWeightSource : public WeightSource {
 public:
  // `names[i]` is the label of `sources[i]` in errors (usually the file path).
  static StatusOr<std::unique_ptr<MultiFileWeightSource>> Create(
      std::vector<std::unique_ptr<WeightSource>> sources, std::vector<std::string> names);

  bool Has(const std::string& name) const override;
  StatusOr<TensorInfo> Info(const std::string& name) const override;
  StatusOr<Tensor> Get(const std::string& name) const override;
  std::vector<std::string> Names() const override { return order_; }
  std::string Describe() const override { return description_; }

 private:
  std::vector<std::unique_ptr<WeightSource>> sources_;
  std::vector<std::string> labels_;
  std::unordered_map<std::string, size_t> where_;
  std::vector<std::string> order_;
  std::string description_;
};

// The checkpoint files OpenCheckpoint would read for `format` (kAuto picks safetensors when any
// exist, else .bin), resolved through the index file when present. Paths are absolute-ish
// (joined with model_dir). Errors: NotFound naming the directory; DataLoss for a bad index.
StatusOr<std::vector<std::string>> ListCheckpointFiles(const std::string& model_dir,
                                                       LoadFormat format);

}  // namespace pagellm

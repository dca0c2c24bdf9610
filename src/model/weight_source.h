// WeightSource: where a model's tensors come from (a safetensors/.bin checkpoint, or random
// "dummy" weights). The model layer asks by HF name and gets a host Tensor view.
// Thread-safety: Get may be called from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/tensor.h"

namespace pagellm {

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool Has(const std::string& name) const = 0;
  virtual StatusOr<TensorInfo> Info(const std::string& name) const = 0;
  // A host view of the tensor as stored (zero-copy into the mmapped file where possible; the
  // view stays valid while the WeightSource lives). Missing tensors are NotFound naming the file.
  // Mapped views are read-only memory (a write faults): copy before modifying on the host.
  virtual StatusOr<Tensor> Get(const std::string& name) const = 0;
  virtual std::vector<std::string> Names() const = 0;
  // Where the tensors come from (a file or directory path, "dummy weights"), for messages.
  virtual std::string Describe() const { return "checkpoint"; }
};

// Get plus the checks a model loader needs: the tensor must exist (NotFound), have shape
// `expected` (InvalidArgument naming tensor, source, both shapes), and be floating; it is
// converted to `dtype` on the host (the view itself when it already is `dtype`). FP8 and
// integer tensors are returned as stored only when `dtype` matches, else Unimplemented.
StatusOr<Tensor> LoadWeight(const WeightSource& source, const std::string& name,
                            const Shape& expected, DType dtype);

// Checkpoint format selection, as vLLM's --load-format.
enum class LoadFormat { kAuto, kSafetensors, kPt, kDummy };
StatusOr<LoadFormat> ParseLoadFormat(const std::string& s);

// Opens the checkpoint in `model_dir`: model.safetensors, sharded model-*.safetensors through
// model.safetensors.index.json, or pytorch_model*.bin when no safetensors exist (kAuto).
// kDummy is not handled here: see MakeDummyWeightSource.
StatusOr<std::unique_ptr<WeightSource>> OpenCheckpoint(const std::string& model_dir,
                                                       LoadFormat format);

// Random weights of the given shapes (deterministic for a seed), for benchmarks.
std::unique_ptr<WeightSource> MakeDummyWeightSource(std::vector<TensorInfo> tensors, uint64_t seed);

}  // namespace pagellm

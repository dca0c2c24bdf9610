// PyTorch checkpoints (torch.save zip format: <prefix>/data.pkl + <prefix>/data/<key>).
// Tensors are views into the mmapped zip when stored, contiguous and aligned; otherwise copies.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/checkpoint_file.h"
#include "model/pt_checkpoint_pickle.h"
#include "model/pt_checkpoint_zip.h"
#include "model/weight_source.h"

namespace pagellm {

class PtCheckpoint : public WeightSource {
 public:
  static StatusOr<std::unique_ptr<PtCheckpoint>> Open(const std::string& path);
  // Same, from bytes already in memory (tests, fuzzing).
  static StatusOr<std::unique_ptr<PtCheckpoint>> FromMapped(std::shared_ptr<MappedFile> file);

  bool Has(const std::string& name) const override;
  StatusOr<TensorInfo> Info(const std::string& name) const override;
  StatusOr<Tensor> Get(const std::string& name) const override;
  std::vector<std::string> Names() const override { return order_; }
  std::string Describe() const override { return file_->path(); }

 private:
  struct Entry {
    PickledTensor t;
    const uint8_t* storage = nullptr;  // start of the storage bytes
  };
  PtCheckpoint(std::shared_ptr<MappedFile> file, ZipArchive zip)
      : file_(std::move(file)), zip_(std::move(zip)) {}
  Status Load();
  StatusOr<const uint8_t*> StorageBytes(const PickledStorage& s);
  Status AddTensor(const std::string& name, const PickledTensor& t);

  std::shared_ptr<MappedFile> file_;
  ZipArchive zip_;
  std::string prefix_;  // "archive/" (the directory holding data.pkl)
  std::unordered_map<std::string, std::unique_ptr<std::string>> inflated_;  // deflated storages
  std::unordered_map<std::string, Entry> tensors_;
  std::vector<std::string> order_;
};

inline StatusOr<std::unique_ptr<PtCheckpoint>> OpenPtCheckpoint(const std::string& path) {
  return PtCheckpoint::Open(path);
}

// DType of a torch storage class; Unimplemented for the ones we do not serve (Double narrows to
// F32 on Get, Bool reads as U8).
StatusOr<DType> TorchStorageDType(const std::string& type_name);

}  // namespace pagellm

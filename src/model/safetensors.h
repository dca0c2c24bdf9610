// safetensors reader: header validation and zero-copy tensor views into the mmapped file.
// Format: 8-byte little-endian header length N, N bytes of JSON, then the data section.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/checkpoint_file.h"
#include "model/weight_source.h"

namespace pagellm {

constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

struct SafetensorsEntry {
  std::string name;
  std::string dtype_name;  // as in the file: "BF16", "F32", ...
  size_t itemsize = 0;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // relative to the data section
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;  // in file order of offsets
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // 8 + N
};

// Validates the whole header of a file of `size` bytes (every check the format implies; see
// safetensors.cc). `source` names the file in errors. Never reads beyond `size`.
StatusOr<SafetensorsHeader> ParseSafetensorsHeader(const uint8_t* data, size_t size,
                                                   const std::string& source);

// Element size of a safetensors dtype name ("F32" -> 4), or 0 when unknown.
size_t SafetensorsItemSize(const std::string& dtype_name);
// Our DType for a safetensors dtype (BOOL reads as U8); Unimplemented for F64/I16/U16/...
StatusOr<DType> SafetensorsDType(const std::string& dtype_name);

// One .safetensors file. Get returns a view into the mapping (a copy only when the data is
// misaligned for its type, or F64 which is narrowed to F32).
class SafetensorsFile : public WeightSource {
 public:
  static StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  static StatusOr<std::unique_ptr<SafetensorsFile>> FromMapped(std::shared_ptr<MappedFile> file);

  bool Has(const std::string& name) const override;
  StatusOr<TensorInfo> Info(const std::string& name) const override;
  StatusOr<Tensor> Get(const std::string& name) const override;
  std::vector<std::string> Names() const override;
  std::string Describe() const override { return file_->path(); }

  const SafetensorsHeader& header() const { return header_; }
  const std::string& path() const { return file_->path(); }

 private:
  SafetensorsFile() = default;
  std::shared_ptr<MappedFile> file_;
  SafetensorsHeader header_;
  std::unordered_map<std::string, size_t> index_;
};

// Writes a safetensors file (tests, fixtures, tools). Tensors must be contiguous host tensors.
Status WriteSafetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace pagellm

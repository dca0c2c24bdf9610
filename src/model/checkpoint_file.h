// MappedFile: read-only bytes of a checkpoint file, mmapped (or owned, for in-memory inputs
// such as fuzz cases). Views into it stay valid while the MappedFile lives.
// Thread-safety: immutable after creation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace pagellm {

class MappedFile {
 public:
  // Maps `path` read-only. Errors (NotFound, PermissionDenied, ...) name the path.
  static StatusOr<std::shared_ptr<MappedFile>> Open(const std::string& path);
  // Wraps a copy of `bytes`; `name` is used in error messages.
  static std::shared_ptr<MappedFile> FromString(std::string bytes, std::string name);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::string owned_;
  std::string path_;
};

// Reads a little-endian integer of N bytes at p (no alignment needed).
inline uint64_t LoadLE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace pagellm

// Buffer owns device or host memory; Allocator makes them.
// Thread-safety: a Buffer is immutable after creation (its bytes are not).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "base/status.h"
#include "tensor/device.h"

namespace pagellm {

class Buffer {
 public:
  using Deleter = std::function<void(void*)>;
  // Takes ownership of `data` (freed by `deleter`, which may be empty for borrowed memory).
  Buffer(void* data, size_t bytes, Device device, Deleter deleter)
      : data_(data), bytes_(bytes), device_(device), deleter_(std::move(deleter)) {}
  ~Buffer() {
    if (deleter_ && data_) deleter_(data_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_;
  size_t bytes_;
  Device device_;
  Deleter deleter_;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual StatusOr<std::shared_ptr<Buffer>> Allocate(size_t bytes) = 0;
  virtual Device device() const = 0;
  // Free and total bytes of the device (CUDA: cudaMemGetInfo); Unimplemented where unknown.
  struct MemoryInfo {
    size_t free_bytes = 0;
    size_t total_bytes = 0;
  };
  virtual StatusOr<MemoryInfo> GetMemoryInfo() const {
    return UnimplementedError("memory info is not available for " + device().ToString());
  }
};

// 64-byte aligned host memory.
Allocator& CpuAllocator();

// Registry hook: the CUDA backend installs its allocator here at static init time.
// Returns nullptr when no allocator exists for the device (e.g. a CPU-only build).
Allocator* GetAllocator(Device device);
void RegisterCudaAllocatorFactory(Allocator* (*factory)(int device_index));

}  // namespace pagellm

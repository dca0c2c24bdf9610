// Page-locked staging for ops::Readback (ops/readback.h): device -> host copies queued on a
// stream with an event to wait on. No CUDA headers here (ops/readback.cc includes this).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "ops/exec_ctx.h"
#include "tensor/tensor.h"

namespace pagellm::cuda {

class PinnedReadback {
 public:
  static StatusOr<std::unique_ptr<PinnedReadback>> Create(int device);
  ~PinnedReadback();
  PinnedReadback(const PinnedReadback&) = delete;
  PinnedReadback& operator=(const PinnedReadback&) = delete;

  // REQUIRES: defined srcs contiguous on the device. Copies run after ctx.stream's queued work.
  Status Enqueue(const ExecCtx& ctx, std::span<const Tensor> srcs);
  // Waits for the last Enqueue and returns pageable host copies of its tensors.
  StatusOr<std::vector<Tensor>> Wait();

 private:
  struct Entry {
    Shape shape;
    DType dtype = DType::kI32;
    size_t offset = 0;
    bool defined = false;
  };
  PinnedReadback(int device, void* event) : device_(device), event_(event) {}

  int device_;
  void* event_;            // cudaEvent_t
  void* buffer_ = nullptr;  // page-locked
  size_t capacity_ = 0;
  bool pending_ = false;   // copies queued that Wait has not seen
  std::vector<Entry> entries_;
};

}  // namespace pagellm::cuda

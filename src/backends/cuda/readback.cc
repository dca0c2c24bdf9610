#include "backends/cuda/readback.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

#include "backends/cuda/cuda_common.h"

namespace pagellm::cuda {
namespace {

constexpr const char* kOp = "cuda::Readback";

size_t AlignUp(size_t n) { return (n + 255) / 256 * 256; }

}  // namespace

StatusOr<std::unique_ptr<PinnedReadback>> PinnedReadback::Create(int device) {
  ExecCtx ctx;
  ctx.device = Device::Cuda(device);
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  cudaEvent_t event = nullptr;
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  return std::unique_ptr<PinnedReadback>(new PinnedReadback(device, event));
}

PinnedReadback::~PinnedReadback() {
  cudaEvent_t event = static_cast<cudaEvent_t>(event_);
  if (pending_) cudaEventSynchronize(event);  // copies into buffer_ may still be in flight
  if (buffer_) cudaFreeHost(buffer_);
  cudaEventDestroy(event);
}

Status PinnedReadback::Enqueue(const ExecCtx& ctx, std::span<const Tensor> srcs) {
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  cudaEvent_t event = static_cast<cudaEvent_t>(event_);
  entries_.clear();
  size_t total = 0;
  for (const Tensor& t : srcs) {
    Entry e;
    e.defined = t.defined();
    if (e.defined) {
      if (!t.is_contiguous() || !t.device().is_cuda())
        return InvalidArgumentError("Readback: sources must be contiguous CUDA tensors");
      e.shape = t.shape();
      e.dtype = t.dtype();
      e.offset = total;
      total += AlignUp(t.nbytes());
    }
    entries_.push_back(e);
  }
  if (total > capacity_) {
    if (pending_) PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaEventSynchronize(event));
    pending_ = false;
    if (buffer_) PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaFreeHost(buffer_));
    buffer_ = nullptr;
    const size_t want = std::max<size_t>(total * 2, 4096);
    PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaHostAlloc(&buffer_, want, cudaHostAllocDefault));
    capacity_ = want;
  }
  for (size_t i = 0; i < srcs.size(); ++i) {
    if (!entries_[i].defined || srcs[i].nbytes() == 0) continue;
    char* dst = static_cast<char*>(buffer_) + entries_[i].offset;
    PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(dst, srcs[i].data(), srcs[i].nbytes(),
                                                      cudaMemcpyDeviceToHost, StreamOf(ctx)));
  }
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaEventRecord(event, StreamOf(ctx)));
  pending_ = true;
  return OkStatus();
}

StatusOr<std::vector<Tensor>> PinnedReadback::Wait() {
  if (pending_) {
    PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaEventSynchronize(static_cast<cudaEvent_t>(event_)));
    pending_ = false;
  }
  std::vector<Tensor> out;
  for (const Entry& e : entries_) {
    out.emplace_back();
    if (!e.defined) continue;
    out.back() = Tensor::EmptyHost(e.shape, e.dtype);
    if (out.back().nbytes() > 0)
      std::memcpy(out.back().data(), static_cast<const char*>(buffer_) + e.offset,
                  out.back().nbytes());
  }
  return out;
}

}  // namespace pagellm::cuda

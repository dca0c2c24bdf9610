#include "ops/readback.h"

#include "ops/ops.h"

#if PAGELLM_HAVE_CUDA
#include "backends/cuda/readback.h"
#else
namespace pagellm::cuda {
class PinnedReadback {};  // never created without the CUDA backend
}  // namespace pagellm::cuda
#endif

namespace pagellm::ops {

StatusOr<std::unique_ptr<Readback>> Readback::Create(Device device) {
  std::unique_ptr<Readback> r(new Readback());
  if (device.is_cuda()) {
#if PAGELLM_HAVE_CUDA
    ASSIGN_OR_RETURN(r->pinned_, cuda::PinnedReadback::Create(device.index));
#else
    return UnavailableError("Readback: this build has no CUDA backend");
#endif
  }
  return r;
}

Readback::~Readback() = default;

Status Readback::Enqueue(const ExecCtx& ctx, std::span<const Tensor> srcs) {
#if PAGELLM_HAVE_CUDA
  if (pinned_) return pinned_->Enqueue(ctx, srcs);
#endif
  host_.clear();
  for (const Tensor& src : srcs) {
    host_.emplace_back();
    if (!src.defined()) continue;
    host_.back() = Tensor::EmptyHost(src.shape(), src.dtype());
    RETURN_IF_ERROR(Copy(ctx, src, host_.back()));
  }
  return OkStatus();
}

StatusOr<std::vector<Tensor>> Readback::Wait() {
#if PAGELLM_HAVE_CUDA
  if (pinned_) return pinned_->Wait();
#endif
  return host_;
}

}  // namespace pagellm::ops

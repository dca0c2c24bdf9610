#include "ops/graph.h"

#if PAGELLM_HAVE_CUDA
#include "backends/cuda/graph.h"
#endif

namespace pagellm::ops {

StatusOr<std::unique_ptr<Stream>> Stream::Create(Device device) {
  void* handle = nullptr;
  if (device.is_cuda()) {
#if PAGELLM_HAVE_CUDA
    ASSIGN_OR_RETURN(handle, cuda::CreateStream(device.index));
#else
    return UnavailableError("Stream: this build has no CUDA backend");
#endif
  }
  return std::unique_ptr<Stream>(new Stream(device, handle));
}

Stream::~Stream() {
#if PAGELLM_HAVE_CUDA
  if (handle_) cuda::DestroyStream(handle_);
#endif
}

Status Synchronize(const ExecCtx& ctx) {
#if PAGELLM_HAVE_CUDA
  if (ctx.device.is_cuda()) return cuda::SynchronizeStream(ctx);
#endif
  return OkStatus();
}

AutotuneScope::AutotuneScope(const ExecCtx& ctx) : cuda_(ctx.device.is_cuda()) {
#if PAGELLM_HAVE_CUDA
  if (cuda_) cuda::SetGemmAutotune(true);
#endif
}

AutotuneScope::~AutotuneScope() {
#if PAGELLM_HAVE_CUDA
  if (cuda_) cuda::SetGemmAutotune(false);
#endif
}

bool GraphCaptureSupported(const ExecCtx& ctx) {
#if PAGELLM_HAVE_CUDA
  return ctx.device.is_cuda() && ctx.stream != nullptr;
#else
  return false;
#endif
}

namespace {
#if PAGELLM_HAVE_CUDA
class CudaGraphAdapter final : public Graph {
 public:
  explicit CudaGraphAdapter(std::unique_ptr<cuda::CudaGraph> g) : g_(std::move(g)) {}
  Status Replay(const ExecCtx& ctx) override { return g_->Replay(ctx); }

 private:
  std::unique_ptr<cuda::CudaGraph> g_;
};
#endif
}  // namespace

StatusOr<std::unique_ptr<Graph>> CaptureGraph(const ExecCtx& ctx,
                                              const std::function<Status()>& body) {
  if (!GraphCaptureSupported(ctx))
    return UnimplementedError("graph capture needs a CUDA device and a non-default stream");
#if PAGELLM_HAVE_CUDA
  ASSIGN_OR_RETURN(std::unique_ptr<cuda::CudaGraph> g, cuda::CaptureGraph(ctx, body));
  return std::unique_ptr<Graph>(new CudaGraphAdapter(std::move(g)));
#else
  return UnimplementedError("graph capture needs a CUDA device");
#endif
}

}  // namespace pagellm::ops

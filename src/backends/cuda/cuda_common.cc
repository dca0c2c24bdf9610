#include "backends/cuda/cuda_common.h"

#include <fmt/format.h>

#include <mutex>

#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {

Status CudaStatus(cudaError_t err, const char* op, const char* what) {
  if (err == cudaSuccess) return OkStatus();
  std::string msg =
      fmt::format("{}: {}: {}: {}", op, what, cudaGetErrorName(err), cudaGetErrorString(err));
  if (err == cudaErrorMemoryAllocation) return ResourceExhaustedError(std::move(msg));
  return InternalError(std::move(msg));
}

StatusOr<DeviceInfo> GetDeviceInfo(int index) {
  static std::mutex mu;
  static DeviceInfo cache[64];
  if (index < 0 || index >= 64) return InvalidArgumentError("GetDeviceInfo: bad device index");
  std::lock_guard<std::mutex> lock(mu);
  DeviceInfo& d = cache[index];
  if (d.sms == 0) {
    int sms = 0, smem = 0;
    constexpr const char* kOp = "cuda::GetDeviceInfo";
    PAGELLM_CUDA_RETURN_IF_ERROR(
        kOp, cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, index));
    PAGELLM_CUDA_RETURN_IF_ERROR(
        kOp, cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, index));
    d.sms = sms;
    d.smem_optin = static_cast<size_t>(smem);
  }
  return d;
}

int DeviceCount() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the error so later calls do not see it
    return 0;
  }
  return n;
}

Status UseDevice(const char* op, const ExecCtx& ctx) {
  if (!ctx.device.is_cuda())
    return InvalidArgumentError(
        fmt::format("{}: ExecCtx device {} is not CUDA", op, ctx.device.ToString()));
  int cur = -1;
  PAGELLM_CUDA_RETURN_IF_ERROR(op, cudaGetDevice(&cur));
  if (cur != ctx.device.index) PAGELLM_CUDA_RETURN_IF_ERROR(op, cudaSetDevice(ctx.device.index));
  return OkStatus();
}

Status CheckFloat(const char* op, DType d, const char* name) {
  if (d == DType::kF32 || d == DType::kF16 || d == DType::kBF16) return OkStatus();
  return InvalidArgumentError(fmt::format("{}: {} has dtype {}, expected float32/float16/bfloat16",
                                          op, name, DTypeName(d)));
}

Status CheckOneDType(const char* op, std::initializer_list<DType> ts) {
  const DType first = *ts.begin();
  for (DType t : ts)
    if (t != first)
      return UnimplementedError(
          fmt::format("{}: the CUDA backend needs one dtype for activations/outputs, got {} and {}",
                      op, DTypeName(first), DTypeName(t)));
  return CheckFloat(op, first, "input");
}

StatusOr<Tensor> Scratch(const char* op, const ExecCtx& ctx, int64_t numel, DType dtype) {
  auto t = Tensor::Empty(Shape{numel}, dtype, ctx.device);
  if (!t.ok()) return t.status().WithContext(op);
  return t;
}

}  // namespace pagellm::cuda

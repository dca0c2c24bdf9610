// Device switch for Copy: any CUDA endpoint goes to the CUDA backend.
#include <fmt/format.h>

#include <array>

#include "ops/cuda_dispatch.h"
#include "ops/op_checks.h"
#include "ops/ops.h"

namespace pagellm::ops {

Status Copy(const ExecCtx& ctx, const Tensor& src, Tensor& dst) {
  constexpr const char* kOp = "Copy";
  if (!src.defined() || !dst.defined())
    return InvalidArgumentError("Copy: src and dst must be defined");
  RETURN_IF_ERROR(internal::CheckShape(kOp, "dst", dst, src.shape()));
  if (src.dtype() != dst.dtype() &&
      !(IsFloating(src.dtype()) && IsFloating(dst.dtype()) && src.dtype() != DType::kFP8E4M3 &&
        dst.dtype() != DType::kFP8E4M3))
    return InvalidArgumentError(fmt::format("Copy: cannot convert {} to {}", DTypeName(src.dtype()),
                                            DTypeName(dst.dtype())));
  // The endpoints pick the backend: any CUDA endpoint means a CUDA copy (on ctx's stream).
  ExecCtx run = ctx;
  run.device = src.device().is_cuda() ? src.device() : dst.device();
  int rank = src.rank();
  std::array<int64_t, Shape::kMaxDims> ss{}, ds{}, shape{};
  for (int i = 0; i < rank; ++i) {
    ss[i] = src.stride(i);
    ds[i] = dst.stride(i);
    shape[i] = src.dim(i);
  }
  return PAGELLM_DISPATCH(run, Copy, src.data(), src.dtype(), ss.data(), src.device(), dst.data(),
                          dst.dtype(), ds.data(), dst.device(), shape.data(), rank);
}

}  // namespace pagellm::ops

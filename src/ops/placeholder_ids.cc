// Device switch for FillPlaceholderIds (async scheduling: step N+1's input ids built on the
// device from step N's sampled ids).
#include "ops/cuda_dispatch.h"
#include "ops/op_checks.h"
#include "ops/ops.h"

namespace pagellm::ops {

Status FillPlaceholderIds(const ExecCtx& ctx, Tensor& ids, const Tensor& prev_ids) {
  constexpr const char* kOp = "FillPlaceholderIds";
  RETURN_IF_ERROR(internal::CheckIndexOn(ctx, kOp, "ids", ids));
  RETURN_IF_ERROR(internal::CheckIndexOn(ctx, kOp, "prev_ids", prev_ids));
  if (ids.numel() == 0) return OkStatus();
  return PAGELLM_DISPATCH_SHAPED(ctx, ids.numel(), prev_ids.numel(), FillPlaceholderIds,
                                 ids.data<int32_t>(), ids.numel(), prev_ids.data<int32_t>(),
                                 prev_ids.numel());
}

}  // namespace pagellm::ops

// Batch-invariant GEMM for the CPU Linear: every output element is one dot product accumulated
// in a fixed order (8-lane partial sums over k, then a fixed lane reduction), so a row's result
// does not depend on the batch size, its position in the batch, or the thread count.
#pragma once

#include <cstdint>

#include "ops/exec_ctx.h"
#include "tensor/dtype.h"

namespace pagellm::cpu::internal {

// y32[m, n] (row stride ldy) = x32[m, k] (row stride ldx) @ w[n, k]^T, w f32/f16/bf16.
void DotGemm(const ExecCtx& ctx, const float* x32, int64_t ldx, const void* w, DType wt, float* y32,
             int64_t ldy, int64_t m, int64_t n, int64_t k);

}  // namespace pagellm::cpu::internal

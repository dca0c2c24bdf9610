// Validation helpers shared by ops/<family>.cc: every failure is an InvalidArgument that names
// the op, the argument and what was wrong.
#pragma once

#include <string_view>

#include "base/status.h"
#include "ops/attention_metadata.h"
#include "ops/exec_ctx.h"
#include "tensor/tensor.h"

namespace pagellm::ops::internal {

// A tensor viewed as [rows, width] with contiguous rows `ld` elements apart.
struct Rows {
  int64_t rows = 0, width = 0, ld = 0;
};

Status Error(std::string_view op, std::string_view name, std::string_view what, const Tensor& t);
// defined, on ctx.device.
Status CheckOn(const ExecCtx& ctx, std::string_view op, std::string_view name, const Tensor& t);
// defined, on ctx.device, f32/f16/bf16.
Status CheckFloatOn(const ExecCtx& ctx, std::string_view op, std::string_view name,
                    const Tensor& t);
// defined, on ctx.device, int32, rank 1, contiguous.
Status CheckIndexOn(const ExecCtx& ctx, std::string_view op, std::string_view name,
                    const Tensor& t);
Status CheckShape(std::string_view op, std::string_view name, const Tensor& t,
                  const Shape& expected);
Status CheckContiguous(std::string_view op, std::string_view name, const Tensor& t);
// Views t as rows over its last dim; the leading dims must collapse to one uniform stride.
StatusOr<Rows> AsRows(std::string_view op, std::string_view name, const Tensor& t);
// [T, H, D] with D and H contiguous (row stride free): returns the row stride.
StatusOr<int64_t> TokenHeadStride(std::string_view op, std::string_view name, const Tensor& t);
// Checks the host arrays of meta for consistency with num_tokens and (if num_blocks >= 0) the
// page table against a cache of num_blocks blocks.
Status CheckMetadata(std::string_view op, const AttentionMetadata& meta, int64_t num_tokens,
                     int64_t num_blocks);

// ApplyRotary's checks (op names the caller): positions [T] int32, cos_sin f32 [*, rot_dim],
// q [T, Hq, D] and k [T, Hk, D] with token-strided rows.
struct RotaryDims {
  int64_t tokens = 0, head_dim = 0, ldq = 0, ldk = 0;
};
StatusOr<RotaryDims> CheckRotary(const ExecCtx& ctx, const char* op, const Tensor& positions,
                                 const Tensor& cos_sin, int rot_dim, const Tensor& q,
                                 const Tensor& k);
// WriteKVCache's checks, including every slot of meta against the cache's size.
struct KVWriteDims {
  int64_t ldk = 0, ldv = 0;
};
StatusOr<KVWriteDims> CheckKVWrite(const ExecCtx& ctx, const char* op, const Tensor& k,
                                   const Tensor& v, const AttentionMetadata& meta,
                                   const Tensor& k_cache, const Tensor& v_cache);

}  // namespace pagellm::ops::internal

// CUDA implementations of the op interface in ops/ops.h (same contracts, same parameters).
// Every tensor argument must live on ctx.device (a CUDA device); Copy also accepts host tensors.
// Work is enqueued on ctx.stream (nullptr: the legacy default stream) and is asynchronous,
// except Copy into host memory, which returns once the bytes are there.
// Differences from the CPU backend, because checking would need a device->host sync:
// out-of-range Embedding ids / GatherRows rows produce zero rows, and out-of-range positions
// leave rows unrotated, instead of returning InvalidArgument.
#pragma once

#include "base/status.h"
#include "ops/attention_metadata.h"
#include "ops/exec_ctx.h"
#include "ops/ops.h"
#include "tensor/tensor.h"

namespace pagellm::cuda {

// Registers the CUDA allocator with tensor/buffer.h (idempotent; also done at static init when
// this library's allocator object is linked in). Call once before Tensor::Empty(Device::Cuda()).
void InitCudaBackend();
// Number of visible CUDA devices (0 when there is no driver or device).
int DeviceCount();

Status Linear(const ExecCtx& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y);
Status Embedding(const ExecCtx& ctx, const Tensor& ids, const Tensor& table, Tensor& out);
Status RmsNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, float eps,
               float weight_offset, Tensor& out);
Status AddRmsNorm(const ExecCtx& ctx, const Tensor& x, Tensor& residual, const Tensor& weight,
                  float eps, float weight_offset, Tensor& out);
Status LayerNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, const Tensor* bias,
                 float eps, Tensor& out);
Status ApplyRotary(const ExecCtx& ctx, const Tensor& positions, const Tensor& cos_sin, int rot_dim,
                   ops::RopeStyle style, Tensor& q, Tensor& k);
Status WriteKVCache(const ExecCtx& ctx, const Tensor& k, const Tensor& v,
                    const AttentionMetadata& meta, Tensor& k_cache, Tensor& v_cache);
Status PagedAttention(const ExecCtx& ctx, const Tensor& q, const Tensor& k_cache,
                      const Tensor& v_cache, const AttentionMetadata& meta,
                      const AttentionParams& params, Tensor& out);
Status GatedActivation(const ExecCtx& ctx, ops::Activation act, const Tensor& x, Tensor& out);
Status Activate(const ExecCtx& ctx, ops::Activation act, const Tensor& x, Tensor& out);
Status Add(const ExecCtx& ctx, const Tensor& a, const Tensor& b, Tensor& out);
Status Scale(const ExecCtx& ctx, const Tensor& x, float s, Tensor& out);
Status Copy(const ExecCtx& ctx, const Tensor& src, Tensor& dst);
Status GatherRows(const ExecCtx& ctx, const Tensor& x, const Tensor& rows, Tensor& out);
Status SoftCap(const ExecCtx& ctx, Tensor& x, float cap);

}  // namespace pagellm::cuda

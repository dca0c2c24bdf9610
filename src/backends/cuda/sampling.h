// GPU sampler for the common path: greedy argmax, or temperature -> min_p -> top_k -> top_p ->
// inverse-CDF draw, with the same order and formulas as the CPU sampler (sample/sampler.cc).
// Penalties, logit bias, bad words, allowed ids and min_tokens are not applied here: run the
// CPU sampler for requests that use them. The uniform draw `u` of each row comes from the host
// (CounterUniform(seed, step) for seeded requests), so seeded streams match the CPU sampler.
// Difference from the CPU sampler: where several tokens tie exactly at the top-k / top-p
// boundary, all tied tokens are kept (the CPU keeps exactly the lower ids for top-p).
// Thread-safety: stateless; enqueues on ctx.stream.
#pragma once

#include <cstdint>

#include "backends/cuda/sampling_row.h"
#include "base/status.h"
#include "ops/exec_ctx.h"
#include "tensor/dtype.h"

namespace pagellm::cuda {

// logits: [rows, vocab] f32/f16/bf16 on ctx.device with row stride ld (elements), unmodified.
// params: `rows` host entries. out_ids: int32 [rows] on the device. out_logprobs (optional,
// device f32 [rows]): raw log-softmax of the sampled token (vLLM's raw_logprobs).
Status SampleRows(const ExecCtx& ctx, const void* logits, DType dtype, int64_t ld, int64_t rows,
                  int64_t vocab, const GpuSamplingRow* params, int32_t* out_ids,
                  float* out_logprobs);

}  // namespace pagellm::cuda

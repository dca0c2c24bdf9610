// CUDA SampleRows: assigns prep/count slots, uploads rows + edits + history appends in one
// host->device copy,
// and launches the kernels (sampling.cu, sampling_prep.cu). Nothing here waits for the device.
#include <cstring>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {
namespace {

constexpr const char* kOp = "cuda::SampleRows";

bool HasPenalties(const ops::SampleRowParams& p) {
  return p.num_history > 0 && (p.repetition_penalty != 1.0 || p.frequency_penalty != 0.0 ||
                               p.presence_penalty != 0.0);
}

int64_t AlignUp(int64_t n, int64_t a) { return (n + a - 1) / a * a; }

}  // namespace

Status SampleRows(const ExecCtx& ctx, const void* logits, DType dtype, int64_t ld, int64_t rows,
                  int64_t vocab, const ops::SampleRowParams* params, const ops::LogitEdit* edits,
                  int64_t num_edits, const int32_t* appends, int64_t num_appends,
                  int32_t* out_ids, float* out_logprobs, int32_t* out_ranks, int32_t* out_top_ids,
                  float* out_top_logprobs, int64_t max_top) {
  RETURN_IF_ERROR(CheckFloat(kOp, dtype, "logits"));
  if (rows == 0) return OkStatus();
  if (vocab <= 0) return InvalidArgumentError("cuda::SampleRows: empty vocabulary");
  if (rows > 2147483647) return InvalidArgumentError("cuda::SampleRows: too many rows");
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  std::vector<kernels::SampleRowDev> dev(static_cast<size_t>(rows));
  int32_t num_prep = 0, num_count = 0;
  bool any_append = false, any_plain = false, any_radix = false;
  for (int64_t r = 0; r < rows; ++r) {
    kernels::SampleRowDev& d = dev[r];
    d.p = params[r];
    const bool pen = HasPenalties(d.p);
    if (pen || d.p.allow_list || d.p.edits_end > d.p.edits_begin) d.prep_slot = num_prep++;
    if (pen) d.count_slot = num_count++;
    any_append = any_append || d.p.append_end > d.p.append_begin;
    (kernels::SampleNeedsRadix(d.p, vocab) ? any_radix : any_plain) = true;
  }
  // One upload: [rows | edits | appends], staged by cudaMemcpyAsync from pageable memory
  // before it returns.
  const int64_t row_bytes = AlignUp(rows * int64_t(sizeof(kernels::SampleRowDev)), 16);
  const int64_t edit_bytes = AlignUp(num_edits * int64_t(sizeof(ops::LogitEdit)), 16);
  const int64_t bytes = row_bytes + edit_bytes + num_appends * int64_t(sizeof(int32_t));
  std::vector<char> host(static_cast<size_t>(bytes));
  std::memcpy(host.data(), dev.data(), dev.size() * sizeof(kernels::SampleRowDev));
  if (num_edits > 0)
    std::memcpy(host.data() + row_bytes, edits, num_edits * sizeof(ops::LogitEdit));
  if (num_appends > 0)
    std::memcpy(host.data() + row_bytes + edit_bytes, appends, num_appends * sizeof(int32_t));
  ASSIGN_OR_RETURN(Tensor up, Scratch(kOp, ctx, bytes, DType::kU8));
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(up.data(), host.data(), bytes,
                                                    cudaMemcpyHostToDevice, StreamOf(ctx)));
  Tensor processed, counts;
  if (num_prep > 0) {
    ASSIGN_OR_RETURN(processed, Scratch(kOp, ctx, num_prep * vocab, DType::kF32));
  }
  if (num_count > 0) {
    ASSIGN_OR_RETURN(counts, Scratch(kOp, ctx, num_count * vocab, DType::kI32));
    PAGELLM_CUDA_RETURN_IF_ERROR(
        kOp, cudaMemsetAsync(counts.data(), 0, counts.nbytes(), StreamOf(ctx)));
  }
  kernels::SampleOut out{out_ids, out_logprobs, out_ranks, out_top_ids, out_top_logprobs, max_top};
  const auto* dev_rows = static_cast<const kernels::SampleRowDev*>(up.data());
  const char* base = static_cast<const char*>(up.data());
  const auto* dev_edits = reinterpret_cast<const ops::LogitEdit*>(base + row_bytes);
  const auto* dev_appends = reinterpret_cast<const int32_t*>(base + row_bytes + edit_bytes);
  PAGELLM_CUDA_RETURN_IF_ERROR(
      kOp, kernels::Sample(logits, dtype, ld, rows, vocab, dev_rows, dev_edits, dev_appends,
                           num_prep > 0 || any_append, any_plain, any_radix,
                           processed.data<float>(),
                           counts.data<int32_t>(), out, StreamOf(ctx)));
  return OkStatus();
}

}  // namespace pagellm::cuda

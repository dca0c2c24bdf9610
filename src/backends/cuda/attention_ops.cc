// PagedAttention host side: validation against the host copies of the metadata (so kernels never
// read outside the cache), then the launch plan: decode rows (query_len 1) and prefill rows go to
// two launches of the kernel in attention.cu; decode splits the context when there are too few
// CTAs to fill the GPU.
#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_ops.h"

namespace pagellm::cuda {
namespace {

constexpr const char* kOp = "cuda::PagedAttention";
constexpr int kMaxHeadDim = 256;

bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }
// A 16-bit tensor whose elements can be read and written two at a time (the MMA kernels' q/out).
bool Pairs(const void* p, int64_t stride_t, int64_t stride_h) {
  return (reinterpret_cast<uintptr_t>(p) & 3u) == 0 && stride_t % 2 == 0 && stride_h % 2 == 0;
}

int LargestDivisorAtMost(int n, int cap) {
  for (int d = std::min(n, cap); d > 1; --d)
    if (n % d == 0) return d;
  return 1;
}

// Per-step facts read off the host metadata.
struct Plan {
  int num_decode = 0, num_prefill = 0, max_prefill_qlen = 0, max_decode_keys = 0;
};

Status CheckMeta(const AttentionMetadata& meta, int64_t num_tokens, int64_t num_blocks,
                 int64_t block_size, int window, Plan& plan) {
  const int s = meta.num_seqs;
  if (static_cast<int64_t>(meta.query_start_loc_host.size()) != s + 1 ||
      static_cast<int64_t>(meta.seq_lens_host.size()) != s ||
      static_cast<int64_t>(meta.block_indptr_host.size()) != s + 1)
    return InvalidArgumentError(
        fmt::format("{}: host metadata sizes do not match num_seqs {}", kOp, s));
  if (meta.query_start_loc_host[0] != 0 || meta.query_start_loc_host[s] != num_tokens)
    return InvalidArgumentError(
        fmt::format("{}: query_start_loc must span [0, {}]", kOp, num_tokens));
  if (meta.block_size != block_size)
    return InvalidArgumentError(fmt::format("{}: meta.block_size {} != cache block size {}", kOp,
                                            meta.block_size, block_size));
  for (int i = 0; i < s; ++i) {
    const int qlen = meta.query_start_loc_host[i + 1] - meta.query_start_loc_host[i];
    const int len = meta.seq_lens_host[i];
    const int64_t nb = meta.block_indptr_host[i + 1] - meta.block_indptr_host[i];
    if (qlen < 0 || len < qlen || nb * block_size < len || meta.block_indptr_host[i] < 0 ||
        meta.block_indptr_host[i + 1] > static_cast<int64_t>(meta.block_indices_host.size()))
      return InvalidArgumentError(fmt::format(
          "{}: sequence {} has query_len {}, seq_len {} and {} blocks", kOp, i, qlen, len, nb));
    if (qlen == 1) {
      ++plan.num_decode;
      plan.max_decode_keys =
          std::max(plan.max_decode_keys, window > 0 ? std::min(len, window) : len);
    } else if (qlen > 1) {
      ++plan.num_prefill;
      plan.max_prefill_qlen = std::max(plan.max_prefill_qlen, qlen);
    }
  }
  if (meta.plan_max_seq_len > 0 && plan.num_decode > 0) {
    const int len = meta.plan_max_seq_len;
    plan.max_decode_keys = std::max(plan.max_decode_keys, window > 0 ? std::min(len, window) : len);
  }
  for (int32_t b : meta.block_indices_host)
    if (b < 0 || b >= num_blocks)
      return InvalidArgumentError(
          fmt::format("{}: block id {} outside [0, {})", kOp, b, num_blocks));
  return OkStatus();
}

Status CheckMetaTensors(const AttentionMetadata& meta) {
  for (const Tensor* t : {&meta.query_start_loc, &meta.seq_lens, &meta.block_indptr})
    if (!t->device().is_cuda() || t->dtype() != DType::kI32 || !t->is_contiguous())
      return InvalidArgumentError(
          fmt::format("{}: metadata tensors must be contiguous int32 CUDA tensors", kOp));
  if (!meta.block_indices_host.empty()) {
    const Tensor& b = meta.block_indices;
    if (!b.device().is_cuda() || b.dtype() != DType::kI32 || !b.is_contiguous() ||
        b.numel() < static_cast<int64_t>(meta.block_indices_host.size()))
      return InvalidArgumentError(fmt::format("{}: block_indices must be contiguous int32", kOp));
  }
  return OkStatus();
}

// Rows per CTA (tokens x heads) that fit the shared-memory limit, halving from `want`.
int FitRows(int want, int head_dim, size_t limit) {
  while (want > 1 && kernels::AttentionSmemBytes(want, head_dim) > limit) want /= 2;
  return want;
}

// Sequences with query_len > 1: tensor-core kernel when it supports the dtype/head_dim.
Status LaunchPrefill(const ExecCtx& ctx, const kernels::AttentionArgs& a, const Plan& plan,
                     const DeviceInfo& info, DType dtype) {
  const int d = a.head_dim, group = a.num_q_heads / a.num_kv_heads;
  const bool mma = kernels::AttentionPrefillMmaSupported(dtype, d) && Aligned16(a.k_cache) &&
                   Aligned16(a.v_cache) && Pairs(a.q, a.q_stride_t, a.q_stride_h) &&
                   Pairs(a.out, a.o_stride_t, a.o_stride_h);
  const size_t tc_smem = kernels::AttentionTcSmemBytes(dtype, d);
  const bool tc = !mma && tc_smem > 0 && tc_smem <= info.smem_optin;
  const int rows = mma  ? kernels::AttentionPrefillMmaRows()
                   : tc ? kernels::AttentionTcRows()
                        : FitRows(d <= 128 ? 64 : 32, d, info.smem_optin);
  kernels::AttentionArgs p = a;
  p.heads_per_cta = LargestDivisorAtMost(group, rows);
  p.tile_tokens = std::max(1, std::min(rows / p.heads_per_cta, plan.max_prefill_qlen));
  p.tiles_per_seq = (plan.max_prefill_qlen + p.tile_tokens - 1) / p.tile_tokens;
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, mma  ? kernels::AttentionPrefillMma(dtype, p, StreamOf(ctx))
                                    : tc ? kernels::AttentionPrefillTC(dtype, p, StreamOf(ctx))
                                         : kernels::AttentionPrefill(dtype, p, StreamOf(ctx)));
  return OkStatus();
}

// Sequences with query_len == 1. The context is split (flash-decoding) until there are about
// `target` CTAs; each split keeps at least `min_keys` keys so the merge stays cheap.
Status LaunchDecode(const ExecCtx& ctx, const kernels::AttentionArgs& a, const Plan& plan,
                    const DeviceInfo& info, DType dtype) {
  const int d = a.head_dim, group = a.num_q_heads / a.num_kv_heads;
  const bool kv16 = Aligned16(a.k_cache) && Aligned16(a.v_cache);
  // Tensor cores first; the tiled CUDA-core kernel for head_dim 256; then the general ones.
  const bool mma = kernels::AttentionDecodeMmaSupported(dtype, d, group) && kv16 &&
                   Pairs(a.q, a.q_stride_t, a.q_stride_h);
  const bool tiled = mma || (kernels::AttentionDecodeTiledSupported(dtype, d, group) && kv16);
  const bool fast = !tiled && kernels::AttentionDecodeFastSupported(d);
  kernels::AttentionArgs p = a;
  p.heads_per_cta =
      tiled ? group
            : LargestDivisorAtMost(group, fast ? kernels::AttentionDecodeFastMaxHeads(d)
                                               : FitRows(16, d, info.smem_optin));
  p.tile_tokens = 1;
  const int64_t target = (tiled ? 2 : fast ? 4 : 2) * static_cast<int64_t>(info.sms);
  const int min_keys = tiled ? 128 : 256;
  const int64_t ctas =
      static_cast<int64_t>(a.num_seqs) * a.num_kv_heads * (group / p.heads_per_cta);
  const int keys = std::max(1, plan.max_decode_keys);
  int splits = 1;
  if (keys > min_keys && ctas < target) {
    const int64_t want = (target + ctas - 1) / ctas;
    splits = static_cast<int>(std::min<int64_t>({want, (keys + min_keys - 1) / min_keys, 64}));
  }
  p.split_chunk = ((keys + splits - 1) / splits + 31) / 32 * 32;
  p.num_splits = (keys + p.split_chunk - 1) / p.split_chunk;
  Tensor part_o, part_ml;  // live until the launches are enqueued (stream-ordered reuse)
  if (p.num_splits > 1) {
    const int64_t rows = static_cast<int64_t>(a.num_seqs) * a.num_q_heads * p.num_splits;
    ASSIGN_OR_RETURN(part_o, Scratch(kOp, ctx, rows * d, DType::kF32));
    ASSIGN_OR_RETURN(part_ml, Scratch(kOp, ctx, rows * 2, DType::kF32));
    p.part_o = part_o.data<float>();
    p.part_ml = part_ml.data<float>();
  }
  const cudaStream_t stream = StreamOf(ctx);
  PAGELLM_CUDA_RETURN_IF_ERROR(kOp, mma     ? kernels::AttentionDecodeMma(dtype, p, stream)
                                    : tiled ? kernels::AttentionDecodeTiled(dtype, p, stream)
                                    : fast  ? kernels::AttentionDecodeFast(dtype, p, stream)
                                            : kernels::AttentionDecode(dtype, p, stream));
  return OkStatus();
}

}  // namespace

Status PagedAttention(const ExecCtx& ctx, const void* q, DType q_dtype, int64_t ldq, int64_t hq,
                      int64_t hk, int64_t head_dim, const void* k_cache, const void* v_cache,
                      DType cache_dtype, int64_t num_blocks, int64_t block_size,
                      const AttentionMetadata& meta, float scale, int32_t sliding_window,
                      float logit_softcap, const float* alibi_slopes, void* out, DType out_dtype,
                      int64_t ldo) {
  RETURN_IF_ERROR(CheckOneDType(kOp, {q_dtype, cache_dtype, out_dtype}));
  if (head_dim > kMaxHeadDim || head_dim <= 0)
    return UnimplementedError(
        fmt::format("{}: head_dim {} not in [1, {}]", kOp, head_dim, kMaxHeadDim));
  if (hk <= 0 || hq % hk != 0)
    return InvalidArgumentError(fmt::format("{}: {} query heads, {} kv heads", kOp, hq, hk));
  const int64_t tokens = meta.query_start_loc_host.empty() ? 0 : meta.query_start_loc_host.back();
  Plan plan;
  RETURN_IF_ERROR(CheckMeta(meta, tokens, num_blocks, block_size, sliding_window, plan));
  if (tokens == 0 || meta.num_seqs == 0) return OkStatus();
  RETURN_IF_ERROR(CheckMetaTensors(meta));
  RETURN_IF_ERROR(UseDevice(kOp, ctx));
  ASSIGN_OR_RETURN(DeviceInfo info, GetDeviceInfo(ctx.device.index));
  const int d = static_cast<int>(head_dim);
  kernels::AttentionArgs a;
  a.q = q;
  a.q_stride_t = ldq;
  a.q_stride_h = head_dim;
  a.k_cache = k_cache;
  a.v_cache = v_cache;
  a.out = out;
  a.o_stride_t = ldo;
  a.o_stride_h = head_dim;
  a.query_start_loc = meta.query_start_loc.data<int32_t>();
  a.seq_lens = meta.seq_lens.data<int32_t>();
  a.block_indptr = meta.block_indptr.data<int32_t>();
  a.block_indices = meta.block_indices.data<int32_t>();
  a.alibi = alibi_slopes;
  a.num_seqs = meta.num_seqs;
  a.num_q_heads = static_cast<int>(hq);
  a.num_kv_heads = static_cast<int>(hk);
  a.head_dim = d;
  a.block_size = static_cast<int>(block_size);
  a.scale = scale;
  a.softcap = logit_softcap;
  a.window = sliding_window;
  if (plan.num_prefill > 0) RETURN_IF_ERROR(LaunchPrefill(ctx, a, plan, info, q_dtype));
  if (plan.num_decode > 0) RETURN_IF_ERROR(LaunchDecode(ctx, a, plan, info, q_dtype));
  return OkStatus();
}

}  // namespace pagellm::cuda

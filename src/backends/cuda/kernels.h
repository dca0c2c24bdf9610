// Kernel launchers: raw pointers, explicit sizes and strides (in elements), a stream. They do no
// validation (the *_ops.cc wrappers do) and return the launch's cudaError_t.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "ops/sampling_types.h"
#include "tensor/dtype.h"

namespace pagellm::cuda::kernels {

// A matrix of `rows` x `cols` elements; element (r, c) at ptr[r * stride + c].
struct Mat {
  const void* ptr = nullptr;
  int64_t stride = 0;
};

// ---- pointwise (elementwise.cu) ----
enum class PointwiseOp : int { kAct, kScale, kSoftCap, kAdd, kGated, kClamp };
// act: ops::Activation as int. kAct/kScale/kSoftCap/kClamp read a; kAdd/kGated also read b
// (b.stride may be 0 to broadcast one row, e.g. a bias). out may alias a or b.
struct PointwiseArgs {
  PointwiseOp op = PointwiseOp::kAct;
  int act = 0;
  float scalar = 0.f;
  Mat a, b;
  void* out = nullptr;
  int64_t out_stride = 0;
  int64_t rows = 0, cols = 0;
};
cudaError_t Pointwise(DType dtype, const PointwiseArgs& args, cudaStream_t stream);

// ---- copies (copy.cu) ----
struct StridedCopyArgs {
  int rank = 0;
  int64_t shape[6] = {};
  int64_t src_stride[6] = {}, dst_stride[6] = {};
  const void* src = nullptr;
  void* dst = nullptr;
};
// Element-wise copy with dtype conversion between float types, or same-dtype copy of any type.
cudaError_t StridedCopy(DType src_t, DType dst_t, const StridedCopyArgs& args, cudaStream_t stream);
// out[i, :] = src[idx[i], :] for i < n (row of row_bytes bytes); idx outside [0, src_rows)
// yields a zero row.
cudaError_t GatherRows(const void* src, int64_t src_stride_bytes, int64_t src_rows,
                       const int32_t* idx, int64_t n, void* out, int64_t out_stride_bytes,
                       int64_t row_bytes, cudaStream_t stream);

// ---- norms (norm.cu) ----
enum class NormKind : int { kRms, kAddRms, kLayer };
struct NormArgs {
  NormKind kind = NormKind::kRms;
  Mat x;                     // input rows
  void* residual = nullptr;  // kAddRms: updated in place (residual += x)
  int64_t residual_stride = 0;
  const void* weight = nullptr;
  DType weight_t = DType::kF32;
  const void* bias = nullptr;  // kLayer, may be null
  DType bias_t = DType::kF32;
  float eps = 1e-6f, weight_offset = 0.f;
  void* out = nullptr;
  int64_t out_stride = 0;
  int64_t rows = 0, cols = 0;
};
// x (and residual) of `dtype`; out of `out_dtype` (any float type).
cudaError_t Norm(DType dtype, DType out_dtype, const NormArgs& args, cudaStream_t stream);

// ---- KV cache write (kv_cache.cu) ----
struct KVWriteArgs {
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t k_stride_t = 0, k_stride_h = 0, v_stride_t = 0, v_stride_h = 0;
  const int32_t* slot_mapping = nullptr;
  int64_t num_tokens = 0;
  int64_t num_slots = 0;  // num_blocks * block_size; slots outside [0, num_slots) are skipped
  int num_kv_heads = 0, head_dim = 0;
  void* k_cache = nullptr;
  void* v_cache = nullptr;
};
cudaError_t WriteKV(DType dtype, const KVWriteArgs& args, cudaStream_t stream);

// ---- rotary (rotary.cu) ----
struct RotaryArgs {
  const int32_t* positions = nullptr;
  const float* cos_sin = nullptr;
  int64_t max_positions = 0;
  int rot_dim = 0;
  bool neox = true;
  int64_t num_tokens = 0;
  void* q = nullptr;
  int64_t q_stride_t = 0, q_stride_h = 0;
  int num_q_heads = 0;
  void* k = nullptr;
  int64_t k_stride_t = 0, k_stride_h = 0;
  int num_k_heads = 0;
  // Fused KV write (ApplyRotaryWriteKV): with kv.slot_mapping set, each token's rotated k row
  // and its v row then go to the cache (kv.k is this k). Tokens at positions outside the table
  // are written unrotated.
  KVWriteArgs kv;
};
cudaError_t Rotary(DType dtype, const RotaryArgs& args, cudaStream_t stream);

// ---- paged attention (attention.cu) ----
struct AttentionArgs {
  const void* q = nullptr;
  int64_t q_stride_t = 0, q_stride_h = 0;
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  void* out = nullptr;
  int64_t o_stride_t = 0, o_stride_h = 0;
  const int32_t* query_start_loc = nullptr;
  const int32_t* seq_lens = nullptr;
  const int32_t* block_indptr = nullptr;
  const int32_t* block_indices = nullptr;
  const float* alibi = nullptr;  // [num_q_heads] or null
  int num_seqs = 0, num_q_heads = 0, num_kv_heads = 0, head_dim = 0, block_size = 0;
  int heads_per_cta = 0;  // divides num_q_heads / num_kv_heads
  float scale = 1.f, softcap = 0.f;
  int window = 0;
  // Prefill launch (sequences with query_len > 1): tiles of tile_tokens query tokens.
  int tile_tokens = 0, tiles_per_seq = 0;
  // Decode launch (query_len == 1): the context split into num_splits chunks of split_chunk keys;
  // with num_splits > 1, partial results go to part_o [num_seqs, Hq, S, D] and
  // part_ml [num_seqs, Hq, S, 2] and a reduce kernel writes out.
  int num_splits = 1, split_chunk = 0;
  float* part_o = nullptr;
  float* part_ml = nullptr;
};
// Bytes of dynamic shared memory one CTA needs for `rows` query rows (tokens x heads).
size_t AttentionSmemBytes(int rows, int head_dim);
cudaError_t AttentionPrefill(DType dtype, const AttentionArgs& args, cudaStream_t stream);
cudaError_t AttentionDecode(DType dtype, const AttentionArgs& args, cudaStream_t stream);
// Merges decode splits (part_o / part_ml) into out; used by every decode path.
cudaError_t AttentionReduce(DType dtype, const AttentionArgs& args, cudaStream_t stream);
// Register-resident decode (attention_decode.cu): lanes split head_dim, warps split the keys,
// heads_per_cta <= AttentionDecodeFastMaxHeads(head_dim); head_dim in {64, 96, 128, 256}.
bool AttentionDecodeFastSupported(int head_dim);
int AttentionDecodeFastMaxHeads(int head_dim);
cudaError_t AttentionDecodeFast(DType dtype, const AttentionArgs& args, cudaStream_t stream);
// Skinny GEMM for 1..kGemvMaxTokens token rows (gemv.cu): y[t, o] = x[t, :] . w[o, :] + bias[o].
// x/w f16 or bf16 with 16-byte aligned rows (k % 8 == 0); y and bias (may be null) of y_dtype,
// which is x's dtype or f32.
inline constexpr int64_t kGemvMaxTokens = 4;
struct GemvArgs {
  const void* x = nullptr;
  const void* w = nullptr;
  const void* bias = nullptr;
  void* y = nullptr;
  int64_t tokens = 0, m = 0, k = 0, ldx = 0, ldy = 0;
};
bool GemvSupported(DType dtype, DType y_dtype, int64_t tokens, int64_t k, int64_t ldx,
                   const void* x, const void* w);
cudaError_t Gemv(DType dtype, DType y_dtype, const GemvArgs& args, cudaStream_t stream);
// Tiled decode (attention_decode_tiled.cu): f16/bf16, head_dim 64/128/256, one CTA per KV head
// serving its whole query group (heads_per_cta = group <= 16), K/V staged with cp.async.
// REQUIRES: 16-byte aligned k_cache / v_cache.
bool AttentionDecodeTiledSupported(DType dtype, int head_dim, int group);
// Tensor-core decode (attention_decode_mma.cu): f16/bf16, head_dim 64 or 128, group <= 16;
// K/V caches 16-byte aligned, q 4-byte aligned with even strides. Same launch arguments as the
// tiled kernel (heads_per_cta = group, num_splits/split_chunk, part_o/part_ml).
bool AttentionDecodeMmaSupported(DType dtype, int head_dim, int group);
cudaError_t AttentionDecodeMma(DType dtype, const AttentionArgs& args, cudaStream_t stream);
cudaError_t AttentionDecodeTiled(DType dtype, const AttentionArgs& args, cudaStream_t stream);
// Tensor-core prefill (attention_tc.cu): f16/bf16, head_dim % 16 == 0 and <= 128. A CTA holds
// AttentionTcRows() rows (tile_tokens * heads_per_cta <= that). SmemBytes is 0 if unsupported.
int AttentionTcRows();
size_t AttentionTcSmemBytes(DType dtype, int head_dim);
cudaError_t AttentionPrefillTC(DType dtype, const AttentionArgs& args, cudaStream_t stream);
// FlashAttention-2 style prefill (attention_prefill_mma.cu): f16/bf16, head_dim 64 or 128, up to
// AttentionPrefillMmaRows() rows a CTA; K/V caches 16-byte aligned, q and out 4-byte aligned
// with even strides.
int AttentionPrefillMmaRows();
bool AttentionPrefillMmaSupported(DType dtype, int head_dim);
cudaError_t AttentionPrefillMma(DType dtype, const AttentionArgs& args, cudaStream_t stream);

// ---- sampling (sampling.cu, sampling_prep.cu) ----
// One row's parameters on the device, with the slots the host assigned: prep_slot >= 0 gives
// the row of `processed` [*, vocab] f32 that receives edited/penalized logits (then sampled
// from), count_slot >= 0 the row of `counts` [*, vocab] i32 (all zero) used for penalties.
struct SampleRowDev {
  ops::SampleRowParams p;
  int32_t prep_slot = -1;
  int32_t count_slot = -1;
};
struct SampleOut {
  int32_t* ids = nullptr;
  float* logprobs = nullptr;  // optional, like the rest
  int32_t* ranks = nullptr;
  int32_t* top_ids = nullptr;
  float* top_logprobs = nullptr;
  int64_t max_top = 0;
};
// Everything on the device. Launches the prep kernel when any_prep (some row has a prep slot
// or appends to its history), then one CTA per row: one launch for the rows that need a top-k /
// top-p search (any_radix: SampleNeedsRadix), one for the others (any_plain).
bool SampleNeedsRadix(const ops::SampleRowParams& p, int64_t vocab);
cudaError_t Sample(const void* logits, DType dtype, int64_t ld, int64_t rows, int64_t vocab,
                   const SampleRowDev* dev_rows, const ops::LogitEdit* dev_edits,
                   const int32_t* dev_appends, bool any_prep, bool any_plain, bool any_radix,
                   float* processed, int32_t* counts, const SampleOut& out, cudaStream_t stream);
// Appends history tokens, then writes processed rows (edits, then penalties); launched by Sample.
cudaError_t SamplePrep(const void* logits, DType dtype, int64_t ld, int64_t rows, int64_t vocab,
                       const SampleRowDev* dev_rows, const ops::LogitEdit* dev_edits,
                       const int32_t* dev_appends, float* processed, int32_t* counts,
                       cudaStream_t stream);

}  // namespace pagellm::cuda::kernels

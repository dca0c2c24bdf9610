// THE op interface. Free functions on Tensor views; every op validates shapes/dtypes/devices and
// returns a Status. ops/<family>.cc holds the only device switch (cpu::X or cuda::X).
// Conventions: activations are row-major [num_tokens, ...]; weights are HF layout [out, in];
// float ops accept f32, f16, bf16 and accumulate in f32.
#pragma once

#include <span>

#include "base/status.h"
#include "ops/attention_metadata.h"
#include "ops/exec_ctx.h"
#include "ops/op_enums.h"
#include "ops/sampling_types.h"
#include "tensor/tensor.h"

namespace pagellm::ops {

// ---- linear -----------------------------------------------------------------
// y[T, out] = x[T, in] @ w[out, in]^T (+ bias[out]). x and y contiguous; y may not alias x.
Status Linear(const ExecCtx& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y);

// ---- embedding --------------------------------------------------------------
// out[T, H] = table[ids[t], :]; ids int32 in [0, V). Out-of-range ids are an InvalidArgument.
Status Embedding(const ExecCtx& ctx, const Tensor& ids, const Tensor& table, Tensor& out);

// ---- norms ------------------------------------------------------------------
// out = x / rms(x) * (weight + weight_offset). weight_offset = 1 for Gemma-style norms.
// x/out are [..., hidden] with uniformly strided rows. Matches HF: with weight_offset == 0
// (LlamaRMSNorm) the normalized value is rounded to x's dtype before the weight multiply; with
// weight_offset != 0 (GemmaRMSNorm) the multiply is in f32 and the result is rounded once.
Status RmsNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, float eps,
               float weight_offset, Tensor& out);
// Fused: residual += x (rounded to residual's dtype); out = RmsNorm(residual). In place.
Status AddRmsNorm(const ExecCtx& ctx, const Tensor& x, Tensor& residual, const Tensor& weight,
                  float eps, float weight_offset, Tensor& out);
// out = (x - mean) / sqrt(var + eps) * weight + bias (bias may be null).
Status LayerNorm(const ExecCtx& ctx, const Tensor& x, const Tensor& weight, const Tensor* bias,
                 float eps, Tensor& out);

// ---- rotary -----------------------------------------------------------------
// RopeStyle (ops/op_enums.h): kNeox rotates halves, kGptj rotates interleaved pairs.
// cos_sin: [max_positions, rot_dim] f32, first rot_dim/2 columns cos, last rot_dim/2 sin
// (scaling already folded in). Rotates the first rot_dim dims of every head of q [T, Hq, D]
// and k [T, Hk, D] in place at positions[t].
Status ApplyRotary(const ExecCtx& ctx, const Tensor& positions, const Tensor& cos_sin, int rot_dim,
                   RopeStyle style, Tensor& q, Tensor& k);

// ---- attention over the paged KV cache ----------------------------------------
// Writes k/v [T, Hk, D] into the caches at meta.slot_mapping.
Status WriteKVCache(const ExecCtx& ctx, const Tensor& k, const Tensor& v,
                    const AttentionMetadata& meta, Tensor& k_cache, Tensor& v_cache);
// ApplyRotary(q, k) at meta.positions, then WriteKVCache(k, v): one kernel on CUDA (a token's
// rotated k row goes to the cache while still in registers/L1). Same results, same errors.
Status ApplyRotaryWriteKV(const ExecCtx& ctx, const Tensor& cos_sin, int rot_dim, RopeStyle style,
                          Tensor& q, Tensor& k, const Tensor& v, const AttentionMetadata& meta,
                          Tensor& k_cache, Tensor& v_cache);
// out[T, Hq, D] = softmax(q k^T * scale + mask) v, each query token attending causally to its
// sequence's cached context (call WriteKVCache first). Hq must be a multiple of Hk (GQA/MQA);
// query head h reads kv head h / (Hq / Hk). A token at position p attends to positions
// [p - sliding_window + 1, p] when sliding_window > 0 (HF: kv_idx > q_idx - window), else [0, p].
// Score = q.k * scale, then softcap * tanh(score / softcap) if softcap > 0, then
// + slope[h] * (key_pos - p) with ALiBi (shift-equivalent to BLOOM/MPT's bias); f32 softmax.
// q/out (and k/v of WriteKVCache) may be strided over tokens: [T, H, D] with contiguous [H, D].
Status PagedAttention(const ExecCtx& ctx, const Tensor& q, const Tensor& k_cache,
                      const Tensor& v_cache, const AttentionMetadata& meta,
                      const AttentionParams& params, Tensor& out);

// ---- activations / elementwise -------------------------------------------------
// Activation (ops/op_enums.h): kSilu, kGeluTanh, kGeluExact, kRelu, kGeluQuick.
// out[T, I] = act(x[T, :I]) * x[T, I:]  (x is [T, 2I], gate first then up).
Status GatedActivation(const ExecCtx& ctx, Activation act, const Tensor& x, Tensor& out);
// out = act(x), same shape (may alias).
Status Activate(const ExecCtx& ctx, Activation act, const Tensor& x, Tensor& out);
// out = a + b (same shape; may alias a or b).
Status Add(const ExecCtx& ctx, const Tensor& a, const Tensor& b, Tensor& out);
// out = x * s (may alias).
Status Scale(const ExecCtx& ctx, const Tensor& x, float s, Tensor& out);
// dst = src with dtype conversion (float<->float, or same integer dtype); same shape, any
// strides; devices may differ (host<->device copies; Unavailable in a CPU-only build).
Status Copy(const ExecCtx& ctx, const Tensor& src, Tensor& dst);
// Gathers rows: out[i, :] = x[rows[i], :]  (rows int32, e.g. last token of each sequence).
Status GatherRows(const ExecCtx& ctx, const Tensor& x, const Tensor& rows, Tensor& out);
// out = cap * tanh(x / cap) in place (final-logit soft-capping).
Status SoftCap(const ExecCtx& ctx, Tensor& x, float cap);
// x = min(max(x, -limit), limit) in place, limit > 0 (MPT's clip_qkv). x contiguous, or rows
// [T, W] with a uniform row stride.
Status Clamp(const ExecCtx& ctx, Tensor& x, float limit);

// ---- mixture of experts (ops/moe.cc; the whole sparse MLP is ops/moe.h's SparseMoeMlp) ------
// ids / weights [T, k] (int32 / f32): the top k experts of softmax(router_logits[T, E]) (f32),
// largest first (ties: lower expert index), probabilities rescaled to sum 1 when renormalize.
Status MoeRoute(const ExecCtx& ctx, const Tensor& router_logits, int top_k, bool renormalize,
                Tensor& ids, Tensor& weights);
// Groups the T*k assignments of ids [T, k] by expert, keeping assignment order within an expert:
// offsets [E + 1] (exclusive prefix sums of the per-expert counts), sorted_tokens [T*k] (token of
// the i-th grouped assignment), positions [T*k] (index in the grouping of assignment t*k + j).
// Ids outside [0, E): InvalidArgument on the CPU; CUDA drops them (position -1, not counted).
Status MoeGroup(const ExecCtx& ctx, const Tensor& ids, int64_t num_experts, Tensor& offsets,
                Tensor& sorted_tokens, Tensor& positions);
// out[t, :] = sum_j weights[t, j] * y[positions[t*k + j], :] (f32 sum, one rounding; negative
// positions contribute nothing). y [N, H], positions [T*k] int32, weights [T, k] f32, out [T, H].
Status MoeCombine(const ExecCtx& ctx, const Tensor& y, const Tensor& positions,
                  const Tensor& weights, Tensor& out);
// ---- async scheduling (ops/placeholder_ids.cc) ---------------------------------------
// Token ids the host does not know yet: in place, every ids[r] < 0 becomes prev_ids[-ids[r] - 1]
// (a token the previous step sampled on the device); ids[r] >= 0 stay. ids [T] and prev_ids
// [M] are int32 on ctx.device. References outside prev_ids: InvalidArgument on the CPU; the
// CUDA kernel writes 0 for them (it cannot report errors without a synchronisation).
Status FillPlaceholderIds(const ExecCtx& ctx, Tensor& ids, const Tensor& prev_ids);

// ---- sampling ------------------------------------------------------------------
// Outputs of SampleRows, on the logits' device. ids is required; the others are optional
// (undefined = not wanted) and written only for rows with num_top_logprobs >= 0: logprobs [R]
// f32 and ranks [R] i32 (raw log-softmax of the sampled token and its 1-based rank),
// top_ids [R, N] i32 / top_logprobs [R, N] f32 (the best min(num_top_logprobs, N, V) tokens,
// most likely first, ties by lower id).
struct SampleOutputs {
  Tensor ids, logprobs, ranks, top_ids, top_logprobs;
};
// Samples one token per row of logits [R, V] (f32/f16/bf16, rows contiguous, unmodified) the
// way the CPU Sampler does: edits (allow/ban/bias) -> penalties -> greedy argmax, or
// temperature -> min_p -> top_k -> top_p -> inverse-CDF draw with rows[r].u. Logprobs are of the
// raw logits. rows, edits and appends are host arrays (uploaded together, once per call);
// history pointers live on the logits' device (rows must not share appended history entries).
// Edit tokens outside [0, V), edit/append ranges outside their arrays: InvalidArgument.
Status SampleRows(const ExecCtx& ctx, const Tensor& logits, std::span<const SampleRowParams> rows,
                  std::span<const LogitEdit> edits, std::span<const int32_t> appends,
                  SampleOutputs& out);

}  // namespace pagellm::ops

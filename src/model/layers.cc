#include "model/layers.h"

#include <cmath>

namespace pagellm {

StatusOr<DecoderScratch> AllocateScratch(const DecoderSpec& sp, int64_t t, DType dt, Device dev) {
  DecoderScratch s;
  const int64_t h = sp.hidden_size, im = sp.intermediate_size, d = sp.head_dim;
  for (Tensor* x : {&s.hidden, &s.normed, &s.attn_out, &s.mlp_out}) {
    ASSIGN_OR_RETURN(*x, Tensor::Empty(Shape{t, h}, dt, dev));
  }
  if (sp.parallel_residual && !sp.shared_input_norm) {
    ASSIGN_OR_RETURN(s.normed2, Tensor::Empty(Shape{t, h}, dt, dev));
  }
  ASSIGN_OR_RETURN(s.q, Tensor::Empty(Shape{t, sp.num_heads, d}, dt, dev));
  ASSIGN_OR_RETURN(s.k, Tensor::Empty(Shape{t, sp.num_kv_heads, d}, dt, dev));
  ASSIGN_OR_RETURN(s.v, Tensor::Empty(Shape{t, sp.num_kv_heads, d}, dt, dev));
  ASSIGN_OR_RETURN(s.attn, Tensor::Empty(Shape{t, sp.num_heads, d}, dt, dev));
  if (sp.qk_norm) {
    ASSIGN_OR_RETURN(s.q2, Tensor::Empty(Shape{t, sp.num_heads, d}, dt, dev));
    ASSIGN_OR_RETURN(s.k2, Tensor::Empty(Shape{t, sp.num_kv_heads, d}, dt, dev));
  }
  const int64_t gu = sp.mlp == MlpKind::kGated ? 2 * im : im;
  ASSIGN_OR_RETURN(s.gate_up, Tensor::Empty(Shape{t, gu}, dt, dev));
  if (sp.mlp == MlpKind::kGated) {
    ASSIGN_OR_RETURN(s.act, Tensor::Empty(Shape{t, im}, dt, dev));
  }
  return s;
}

Status ApplyNorm(const ExecCtx& ctx, const NormSpec& norm, const NormWeights& w, const Tensor& x,
                 Tensor& out) {
  if (norm.kind == NormKind::kRmsNorm)
    return ops::RmsNorm(ctx, x, w.weight, norm.eps, norm.weight_offset, out);
  return ops::LayerNorm(ctx, x, w.weight, w.bias.defined() ? &w.bias : nullptr, norm.eps, out);
}

Status AddAndNorm(const ExecCtx& ctx, const NormSpec& norm, const NormWeights& w,
                  const Tensor& delta, Tensor& residual, Tensor& out) {
  if (norm.kind == NormKind::kRmsNorm)
    return ops::AddRmsNorm(ctx, delta, residual, w.weight, norm.eps, norm.weight_offset, out);
  RETURN_IF_ERROR(ops::Add(ctx, residual, delta, residual));
  return ApplyNorm(ctx, norm, w, residual, out);
}

namespace {

// y = x @ rows [begin, end) of the linear layer's weight (and bias). Row slices of a
// contiguous [out, in] matrix are contiguous, so each projection writes a contiguous output.
Status LinearRows(const ExecCtx& ctx, const LinearWeights& w, int64_t begin, int64_t end,
                  const Tensor& x, Tensor& y) {
  Tensor wt = w.weight.Slice(0, begin, end);
  if (!w.bias.defined()) return ops::Linear(ctx, x, wt, nullptr, y);
  Tensor b = w.bias.Slice(0, begin, end);
  return ops::Linear(ctx, x, wt, &b, y);
}

// RMS/LayerNorm of every head vector: views [T, H, D] as [T * H, D].
Status HeadNorm(const ExecCtx& ctx, const NormSpec& norm, const NormWeights& w, const Tensor& x,
                Tensor& out) {
  Shape flat{x.dim(0) * x.dim(1), x.dim(2)};
  Tensor xf = x.Reshape(flat), of = out.Reshape(flat);
  return ApplyNorm(ctx, norm, w, xf, of);
}

}  // namespace

Status AttentionLayer(const ExecCtx& ctx, const DecoderSpec& sp, int64_t layer,
                      const LayerWeights& w, const AttentionInputs& in, const Tensor& x,
                      Tensor& k_cache, Tensor& v_cache, DecoderScratch& s, Tensor& out) {
  const int64_t t = x.dim(0), q_size = sp.q_size(), kv = sp.kv_size();
  Tensor q2d = s.q.Reshape(Shape{t, q_size});
  Tensor k2d = s.k.Reshape(Shape{t, kv});
  Tensor v2d = s.v.Reshape(Shape{t, kv});
  RETURN_IF_ERROR(LinearRows(ctx, w.qkv, 0, q_size, x, q2d));
  RETURN_IF_ERROR(LinearRows(ctx, w.qkv, q_size, q_size + kv, x, k2d));
  RETURN_IF_ERROR(LinearRows(ctx, w.qkv, q_size + kv, q_size + 2 * kv, x, v2d));
  Tensor* q = &s.q;
  Tensor* k = &s.k;
  if (sp.qk_norm) {
    RETURN_IF_ERROR(HeadNorm(ctx, sp.norm, w.q_norm, s.q, s.q2));
    RETURN_IF_ERROR(HeadNorm(ctx, sp.norm, w.k_norm, s.k, s.k2));
    q = &s.q2;
    k = &s.k2;
  }
  const AttentionMetadata& meta = *in.meta;
  if (sp.position == PositionKind::kRotary) {
    RETURN_IF_ERROR(ops::ApplyRotary(ctx, meta.positions, *in.rope_cos_sin,
                                     static_cast<int>(sp.rotary_dim()), sp.rope_style, *q, *k));
  }
  RETURN_IF_ERROR(ops::WriteKVCache(ctx, *k, s.v, meta, k_cache, v_cache));
  AttentionParams params;
  params.scale = sp.attn_scale > 0.f ? sp.attn_scale
                                     : 1.f / std::sqrt(static_cast<float>(sp.head_dim));
  params.sliding_window = sp.window(layer);
  params.logit_softcap = sp.attn_logit_softcap;
  params.alibi_slopes = in.alibi_slopes;
  RETURN_IF_ERROR(ops::PagedAttention(ctx, *q, k_cache, v_cache, meta, params, s.attn));
  return ops::Linear(ctx, s.attn.Reshape(Shape{t, q_size}), w.o.weight, w.o.bias_ptr(), out);
}

Status MlpLayer(const ExecCtx& ctx, const DecoderSpec& sp, const LayerWeights& w,
                const Tensor& x, DecoderScratch& s, Tensor& out) {
  RETURN_IF_ERROR(ops::Linear(ctx, x, w.gate_up.weight, w.gate_up.bias_ptr(), s.gate_up));
  if (sp.mlp == MlpKind::kGated) {
    RETURN_IF_ERROR(ops::GatedActivation(ctx, sp.activation, s.gate_up, s.act));
    return ops::Linear(ctx, s.act, w.down.weight, w.down.bias_ptr(), out);
  }
  RETURN_IF_ERROR(ops::Activate(ctx, sp.activation, s.gate_up, s.gate_up));
  return ops::Linear(ctx, s.gate_up, w.down.weight, w.down.bias_ptr(), out);
}

Tensor AlibiSlopes(int64_t n) {
  int64_t pow2 = 1;
  while (pow2 * 2 <= n) pow2 *= 2;
  std::vector<float> slopes;
  const double base = std::pow(2.0, -8.0 / static_cast<double>(pow2));
  for (int64_t i = 1; i <= pow2; ++i) slopes.push_back(static_cast<float>(std::pow(base, i)));
  const double extra = std::pow(2.0, -4.0 / static_cast<double>(pow2));
  for (int64_t i = 0; i < n - pow2; ++i)
    slopes.push_back(static_cast<float>(std::pow(extra, 2 * i + 1)));
  return Tensor::FromVector(slopes, Shape{n});
}

}  // namespace pagellm

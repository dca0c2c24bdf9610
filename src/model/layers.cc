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
  ASSIGN_OR_RETURN(s.qkv, Tensor::Empty(Shape{t, sp.num_heads + 2 * sp.num_kv_heads, d}, dt, dev));
  ASSIGN_OR_RETURN(s.attn, Tensor::Empty(Shape{t, sp.num_heads, d}, dt, dev));
  if (sp.qk_norm) {
    ASSIGN_OR_RETURN(s.q2, Tensor::Empty(Shape{t, sp.num_heads, d}, dt, dev));
    ASSIGN_OR_RETURN(s.k2, Tensor::Empty(Shape{t, sp.num_kv_heads, d}, dt, dev));
  }
  if (sp.num_experts > 0) {  // the experts' buffers replace gate_up / act
    ASSIGN_OR_RETURN(s.moe, ops::AllocateMoeScratch(t, sp.num_experts,
                                                    static_cast<int>(sp.num_experts_per_tok), h,
                                                    im, dt, dev));
  } else {
    const int64_t gu = sp.mlp == MlpKind::kGated ? 2 * im : im;
    ASSIGN_OR_RETURN(s.gate_up, Tensor::Empty(Shape{t, gu}, dt, dev));
    if (sp.mlp == MlpKind::kGated) {
      ASSIGN_OR_RETURN(s.act, Tensor::Empty(Shape{t, im}, dt, dev));
    }
  }
  return s;
}

DecoderScratch FirstRows(const DecoderScratch& s, int64_t t) {
  DecoderScratch r = s;
  for (Tensor* x : {&r.hidden, &r.normed, &r.normed2, &r.attn_out, &r.mlp_out, &r.qkv, &r.q2,
                    &r.k2, &r.attn, &r.gate_up, &r.act}) {
    if (x->defined()) *x = x->Slice(0, 0, t);
  }
  if (s.moe.ids.defined())
    r.moe = ops::MoeScratchRows(s.moe, t, static_cast<int>(s.moe.ids.dim(1)));
  return r;
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

// Norm of every head vector of a [T, H, D] view (RMSNorm reads token-strided views directly;
// LayerNorm gets a contiguous [T * H, D] copy).
Status HeadNorm(const ExecCtx& ctx, const NormSpec& norm, const NormWeights& w, const Tensor& x,
                Tensor& out) {
  if (norm.kind == NormKind::kRmsNorm)
    return ops::RmsNorm(ctx, x, w.weight, norm.eps, norm.weight_offset, out);
  ASSIGN_OR_RETURN(Tensor tmp, Tensor::Empty(x.shape(), x.dtype(), x.device()));
  RETURN_IF_ERROR(ops::Copy(ctx, x, tmp));
  Shape flat{x.dim(0) * x.dim(1), x.dim(2)};
  Tensor in = tmp.Reshape(flat), of = out.Reshape(flat);
  return ops::LayerNorm(ctx, in, w.weight, w.bias.defined() ? &w.bias : nullptr, norm.eps, of);
}

}  // namespace

Status AttentionLayer(const ExecCtx& ctx, const DecoderSpec& sp, int64_t layer,
                      const LayerWeights& w, const AttentionInputs& in, const Tensor& x,
                      Tensor& k_cache, Tensor& v_cache, DecoderScratch& s, Tensor& out) {
  const int64_t t = x.dim(0), hq = sp.num_heads, hk = sp.num_kv_heads;
  // One GEMM for q, k and v; the ops below read token-strided [T, H, D] views of its output.
  Tensor qkv2d = s.qkv.Reshape(Shape{t, (hq + 2 * hk) * sp.head_dim});
  RETURN_IF_ERROR(ops::Linear(ctx, x, w.qkv.weight, w.qkv.bias_ptr(), qkv2d));
  if (sp.clip_qkv > 0.f) RETURN_IF_ERROR(ops::Clamp(ctx, qkv2d, sp.clip_qkv));
  Tensor q = s.qkv.Slice(1, 0, hq);
  Tensor k = s.qkv.Slice(1, hq, hq + hk);
  Tensor v = s.qkv.Slice(1, hq + hk, hq + 2 * hk);
  if (sp.qk_norm && sp.qk_norm_across_heads) {
    // One norm over all heads of q (and of k): [T, Hq * D] rows of the fused output.
    const int64_t qs = sp.q_size(), ks = sp.kv_size();
    Tensor q2d = s.q2.Reshape(Shape{t, qs}), k2d = s.k2.Reshape(Shape{t, ks});
    RETURN_IF_ERROR(ApplyNorm(ctx, sp.norm, w.q_norm, qkv2d.Slice(1, 0, qs), q2d));
    RETURN_IF_ERROR(ApplyNorm(ctx, sp.norm, w.k_norm, qkv2d.Slice(1, qs, qs + ks), k2d));
    q = s.q2;
    k = s.k2;
  } else if (sp.qk_norm) {
    RETURN_IF_ERROR(HeadNorm(ctx, sp.norm, w.q_norm, q, s.q2));
    RETURN_IF_ERROR(HeadNorm(ctx, sp.norm, w.k_norm, k, s.k2));
    q = s.q2;
    k = s.k2;
  }
  const AttentionMetadata& meta = *in.meta;
  if (sp.position == PositionKind::kRotary) {
    RETURN_IF_ERROR(ops::ApplyRotaryWriteKV(ctx, *in.rope_cos_sin,
                                            static_cast<int>(sp.rotary_dim()), sp.rope_style, q,
                                            k, v, meta, k_cache, v_cache));
  } else {
    RETURN_IF_ERROR(ops::WriteKVCache(ctx, k, v, meta, k_cache, v_cache));
  }
  AttentionParams params;
  params.scale = sp.attn_scale > 0.f ? sp.attn_scale
                                     : 1.f / std::sqrt(static_cast<float>(sp.head_dim));
  params.sliding_window = sp.window(layer);
  params.logit_softcap = sp.attn_logit_softcap;
  params.alibi_slopes = in.alibi_slopes;
  RETURN_IF_ERROR(ops::PagedAttention(ctx, q, k_cache, v_cache, meta, params, s.attn));
  return ops::Linear(ctx, s.attn.Reshape(Shape{t, sp.q_size()}), w.o.weight, w.o.bias_ptr(), out);
}

Status MlpLayer(const ExecCtx& ctx, const DecoderSpec& sp, const LayerWeights& w,
                const Tensor& x, DecoderScratch& s, Tensor& out) {
  if (sp.num_experts > 0) {
    ops::MoeParams p{static_cast<int>(sp.num_experts_per_tok), sp.moe_renormalize, sp.activation};
    return ops::SparseMoeMlp(ctx, x, {w.router.weight, w.experts_gate_up, w.experts_down}, p,
                             s.moe, out);
  }
  RETURN_IF_ERROR(ops::Linear(ctx, x, w.gate_up.weight, w.gate_up.bias_ptr(), s.gate_up));
  if (sp.mlp == MlpKind::kGated) {
    RETURN_IF_ERROR(ops::GatedActivation(ctx, sp.activation, s.gate_up, s.act));
    return ops::Linear(ctx, s.act, w.down.weight, w.down.bias_ptr(), out);
  }
  RETURN_IF_ERROR(ops::Activate(ctx, sp.activation, s.gate_up, s.gate_up));
  return ops::Linear(ctx, s.gate_up, w.down.weight, w.down.bias_ptr(), out);
}

}  // namespace pagellm

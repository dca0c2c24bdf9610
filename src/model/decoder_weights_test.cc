#include "model/decoder_weights.h"

#include <gtest/gtest.h>

#include "model/testing/memory_weight_source.h"

namespace pagellm {
namespace {

DecoderSpec Tiny(int64_t heads, int64_t kv_heads) {
  DecoderSpec s;
  s.vocab_size = 11;
  s.hidden_size = 8;
  s.intermediate_size = 6;
  s.num_layers = 1;
  s.num_heads = heads;
  s.num_kv_heads = kv_heads;
  s.head_dim = 2;
  return s;
}

TEST(QkvRowOrder, PerHeadAndPerGroup) {
  DecoderSpec s = Tiny(2, 2);
  s.qkv_layout = QkvLayout::kFusedPerHead;  // source rows: h0[q k v] h1[q k v], 2 dims each
  EXPECT_EQ(QkvRowOrder(s), (std::vector<int64_t>{0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}));
  s = Tiny(4, 2);
  s.qkv_layout = QkvLayout::kFusedPerGroup;  // g0[q0 q1 k0 v0] g1[q2 q3 k1 v1]
  EXPECT_EQ(QkvRowOrder(s),
            (std::vector<int64_t>{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15}));
  s.qkv_layout = QkvLayout::kFusedConcat;
  EXPECT_EQ(QkvRowOrder(s)[5], 5);
}

TEST(LoadDecoderWeights, FusesSplitTensorsAndConverts) {
  DecoderSpec s = Tiny(2, 1);
  s.qkv_bias = true;
  s.tie_word_embeddings = true;
  WeightNames n;
  auto src = testing::RandomWeights(s, n, 1);
  EXPECT_FALSE(src->Has("lm_head.weight"));
  auto w = LoadDecoderWeights(ExecCtx::Cpu(), s, n, *src, DType::kBF16);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const LayerWeights& l = w->layers[0];
  EXPECT_EQ(l.qkv.weight.shape(), (Shape{8, 8}));  // q 4 + k 2 + v 2 rows
  EXPECT_EQ(l.qkv.bias.shape(), (Shape{8}));
  EXPECT_EQ(l.gate_up.weight.shape(), (Shape{12, 8}));
  EXPECT_EQ(l.qkv.weight.dtype(), DType::kBF16);
  EXPECT_FALSE(l.o.bias.defined());
  EXPECT_EQ(w->lm_head.weight.data(), w->embed_tokens.data());
  // Row 5 of the fused matrix is row 1 of k_proj; row 13 of gate_up is row 1 of up_proj.
  Tensor k = src->Get("model.layers.0.self_attn.k_proj.weight").value();
  Tensor up = src->Get("model.layers.0.mlp.up_proj.weight").value();
  for (int c = 0; c < 8; ++c) {
    EXPECT_EQ(l.qkv.weight.At(5 * 8 + c), BF16ToFloat(FloatToBF16(k.At(8 + c))));
    EXPECT_EQ(l.gate_up.weight.At(7 * 8 + c), BF16ToFloat(FloatToBF16(up.At(8 + c))));
  }
}

TEST(LoadDecoderWeights, ZeroCopyWhenDtypeMatches) {
  DecoderSpec s = Tiny(2, 2);
  WeightNames n;
  auto src = testing::RandomWeights(s, n, 2);
  auto w = LoadDecoderWeights(ExecCtx::Cpu(), s, n, *src, DType::kF32);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->embed_tokens.data(), src->Get("model.embed_tokens.weight")->data());
}

TEST(LoadDecoderWeights, FusedPerHeadEqualsSplit) {
  DecoderSpec split = Tiny(2, 2);
  WeightNames n;
  auto src = testing::RandomWeights(split, n, 3);
  // Build the NeoX-style fused tensor from the split q/k/v.
  std::vector<float> q = src->Get("model.layers.0.self_attn.q_proj.weight")->ToFloatVector();
  std::vector<float> k = src->Get("model.layers.0.self_attn.k_proj.weight")->ToFloatVector();
  std::vector<float> v = src->Get("model.layers.0.self_attn.v_proj.weight")->ToFloatVector();
  std::vector<float> fused;
  for (int h = 0; h < 2; ++h)
    for (const auto* part : {&q, &k, &v}) fused.insert(fused.end(), part->begin() + h * 16,
                                                       part->begin() + (h + 1) * 16);
  src->Put("model.layers.0.attention.query_key_value.weight", Tensor::FromVector(fused, Shape{12, 8}));
  DecoderSpec per_head = split;
  per_head.qkv_layout = QkvLayout::kFusedPerHead;
  WeightNames fn = n;
  fn.qkv_proj = "attention.query_key_value";
  auto a = LoadDecoderWeights(ExecCtx::Cpu(), split, n, *src, DType::kF32);
  auto b = LoadDecoderWeights(ExecCtx::Cpu(), per_head, fn, *src, DType::kF32);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().ToString();
  EXPECT_EQ(a->layers[0].qkv.weight.ToFloatVector(), b->layers[0].qkv.weight.ToFloatVector());
}

TEST(LoadDecoderWeights, ShapeMismatchNamesTensor) {
  DecoderSpec s = Tiny(2, 2);
  WeightNames n;
  auto src = testing::RandomWeights(s, n, 4);
  src->Put("model.norm.weight", Tensor::FromVector(std::vector<float>(7, 1.f), Shape{7}));
  auto w = LoadDecoderWeights(ExecCtx::Cpu(), s, n, *src, DType::kF32);
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("model.norm.weight"), std::string::npos);
}

TEST(LoadDecoderWeights, Conv1DTransposedAndPrefixFallback) {
  DecoderSpec s = Tiny(2, 2);
  s.qkv_layout = QkvLayout::kFusedConcat;
  s.mlp = MlpKind::kPlain;
  s.tie_word_embeddings = true;
  WeightNames n;
  n.embed_tokens = "transformer.wte";
  n.final_norm = "transformer.ln_f";
  n.layer_prefix = "transformer.h.{}.";
  n.qkv_proj = "attn.c_attn";
  n.o_proj = "attn.c_proj";
  n.up_proj = "mlp.c_fc";
  n.down_proj = "mlp.c_proj";
  auto src = testing::RandomWeights(s, n, 5);
  // The same weights as a GPT-2 checkpoint: Conv1D [in, out] and no "transformer." prefix.
  auto conv_src = std::make_shared<testing::MemoryWeightSource>();
  for (const std::string& name : src->Names()) {
    Tensor t = *src->Get(name);
    const bool linear = t.rank() == 2 && name.find(".h.") != std::string::npos;
    if (linear) {
      Tensor tt = Tensor::EmptyHost(Shape{t.dim(1), t.dim(0)}, DType::kF32);
      for (int64_t r = 0; r < t.dim(0); ++r)
        for (int64_t c = 0; c < t.dim(1); ++c) tt.data<float>()[c * t.dim(0) + r] = t.At(r * t.dim(1) + c);
      t = tt;
    }
    conv_src->Put(name.substr(std::string("transformer.").size()), t);
  }
  WeightNames conv = n;
  conv.transposed_linear = true;
  conv.optional_prefix = "transformer.";
  auto a = LoadDecoderWeights(ExecCtx::Cpu(), s, n, *src, DType::kF32);
  auto b = LoadDecoderWeights(ExecCtx::Cpu(), s, conv, *conv_src, DType::kF32);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().ToString();
  const LayerWeights &la = a->layers[0], &lb = b->layers[0];
  EXPECT_EQ(la.qkv.weight.ToFloatVector(), lb.qkv.weight.ToFloatVector());
  EXPECT_EQ(la.o.weight.ToFloatVector(), lb.o.weight.ToFloatVector());
  EXPECT_EQ(la.gate_up.weight.ToFloatVector(), lb.gate_up.weight.ToFloatVector());
  EXPECT_EQ(la.down.weight.ToFloatVector(), lb.down.weight.ToFloatVector());
  EXPECT_EQ(a->embed_tokens.ToFloatVector(), b->embed_tokens.ToFloatVector());
  // ExpectedTensors reports the checkpoint (transposed) shapes.
  for (const TensorInfo& info : ExpectedTensors(s, conv, DType::kF32))
    if (info.name == "transformer.h.0.mlp.c_fc.weight") EXPECT_EQ(info.shape, (Shape{8, 6}));
}

}  // namespace
}  // namespace pagellm

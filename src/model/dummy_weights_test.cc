#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "model/weight_source.h"

namespace pagellm {
namespace {

std::vector<TensorInfo> Infos() {
  return {{"model.embed_tokens.weight", DType::kBF16, Shape{64, 16}},
          {"model.norm.weight", DType::kF32, Shape{16}},
          {"model.layers.0.self_attn.q_proj.weight", DType::kF16, Shape{16, 16}},
          {"ids", DType::kI32, Shape{3}}};
}

TEST(DummyWeightsTest, DeterministicSmallAndFinite) {
  auto a = MakeDummyWeightSource(Infos(), 42);
  auto b = MakeDummyWeightSource(Infos(), 42);
  auto c = MakeDummyWeightSource(Infos(), 43);
  EXPECT_EQ(a->Names().size(), 4u);
  auto ea = a->Get("model.embed_tokens.weight")->ToFloatVector();
  EXPECT_EQ(ea, b->Get("model.embed_tokens.weight")->ToFloatVector());
  EXPECT_NE(ea, c->Get("model.embed_tokens.weight")->ToFloatVector());
  for (float v : ea) EXPECT_TRUE(std::isfinite(v) && std::abs(v) <= 0.021f) << v;
  for (float v : a->Get("model.norm.weight")->ToFloatVector()) EXPECT_NEAR(v, 1.0f, 0.021f);
  EXPECT_EQ(a->Get("ids")->data<int32_t>()[2], 0);
  EXPECT_EQ(a->Info("model.norm.weight")->shape, Shape{16});
  EXPECT_EQ(a->Get("missing").status().code(), StatusCode::kNotFound);
}

TEST(DummyWeightsTest, ConcurrentGetsSeeOneTensor) {
  auto src = MakeDummyWeightSource(Infos(), 1);
  std::vector<void*> ptrs(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] { ptrs[i] = src->Get("model.layers.0.self_attn.q_proj.weight")->data(); });
  for (auto& t : threads) t.join();
  for (void* p : ptrs) EXPECT_EQ(p, ptrs[0]);
}

}  // namespace
}  // namespace pagellm

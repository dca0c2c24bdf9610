#include "kv/kv_cache_manager.h"

#include <numeric>

#include <gtest/gtest.h>

namespace pagellm {
namespace {

std::vector<int32_t> Iota(int n, int start = 1) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(KVCacheManagerTest, AllocatesCeilTokensOverBlockSize) {
  KVCacheManager m(10, 4);
  auto a = m.AllocateSlots("r", 0, 5);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->new_block_ids.size(), 2u);
  EXPECT_EQ(m.AllocateSlots("r", 5, 3)->new_block_ids.size(), 0u);  // 8 tokens: still 2
  EXPECT_EQ(m.AllocateSlots("r", 8, 1)->new_block_ids.size(), 1u);
  EXPECT_EQ(m.GetBlockIds("r").size(), 3u);
  EXPECT_FALSE(m.AllocateSlots("big", 0, 29).has_value());  // needs 8, 7 free
  EXPECT_TRUE(m.GetBlockIds("big").empty());
  EXPECT_TRUE(m.CheckInvariants().ok());
  m.Free("r");
  EXPECT_EQ(m.num_free_blocks(), 10);
  EXPECT_TRUE(m.CheckInvariants().ok());
}

TEST(KVCacheManagerTest, PrefixHitNeedsEveryEarlierBlock) {
  KVCacheManager m(16, 4);
  BlockHashExtraKeys none;
  auto toks = Iota(10);  // 2 full blocks + 2
  auto c0 = m.GetComputedBlocks("a", toks, none);
  EXPECT_EQ(c0.num_computed_tokens, 0);
  ASSERT_TRUE(m.AllocateSlots("a", 0, 10).has_value());
  m.CacheBlocks("a", toks, 10, none);
  // Same prompt: both full blocks hit.
  auto c1 = m.GetComputedBlocks("b", toks, none);
  EXPECT_EQ(c1.num_computed_tokens, 8);
  EXPECT_EQ(c1.block_ids, std::vector<int32_t>(m.GetBlockIds("a").begin(), m.GetBlockIds("a").begin() + 2));
  // First block differs: no hit on the second even though its tokens match.
  auto other = toks;
  other[0] = 99;
  EXPECT_EQ(m.GetComputedBlocks("c", other, none).num_computed_tokens, 0);
  // Extra keys / salt separate caches.
  BlockHashExtraKeys salt{"s", {}};
  EXPECT_EQ(m.GetComputedBlocks("d", toks, salt).num_computed_tokens, 0);
  // A full-prompt hit still leaves the last token to compute.
  auto eight = Iota(8);
  EXPECT_EQ(m.GetComputedBlocks("e", eight, none).num_computed_tokens, 4);
  // Adopt the hit: shared blocks get ref 2.
  ASSERT_TRUE(m.AllocateSlots("b", c1.num_computed_tokens, 2, c1.block_ids).has_value());
  EXPECT_EQ(m.block_pool().ref_cnt(c1.block_ids[0]), 2);
  EXPECT_TRUE(m.CheckInvariants().ok());
  // Reusable after the first owner is gone, and across requests after both are gone.
  m.Free("a");
  m.Free("b");
  EXPECT_EQ(m.num_free_blocks(), 16);
  auto c2 = m.GetComputedBlocks("f", toks, none);
  EXPECT_EQ(c2.num_computed_tokens, 8);
  ASSERT_TRUE(m.AllocateSlots("f", 8, 2, c2.block_ids).has_value());
  EXPECT_EQ(m.num_free_blocks(), 13);
  EXPECT_TRUE(m.CheckInvariants().ok());
}

TEST(KVCacheManagerTest, EvictedPrefixMisses) {
  KVCacheManager m(3, 4);
  BlockHashExtraKeys none;
  auto toks = Iota(9);
  m.GetComputedBlocks("a", toks, none);
  ASSERT_TRUE(m.AllocateSlots("a", 0, 9).has_value());
  m.CacheBlocks("a", toks, 9, none);
  m.Free("a");
  ASSERT_TRUE(m.AllocateSlots("x", 0, 12).has_value());  // takes every block
  m.Free("x");
  EXPECT_EQ(m.GetComputedBlocks("b", toks, none).num_computed_tokens, 0);
}

TEST(KVCacheManagerTest, HitOnFreeBlocksCountsTowardsFreeSpace) {
  KVCacheManager m(3, 4);
  BlockHashExtraKeys none;
  auto toks = Iota(9);
  m.GetComputedBlocks("a", toks, none);
  ASSERT_TRUE(m.AllocateSlots("a", 0, 9).has_value());
  m.CacheBlocks("a", toks, 9, none);
  m.Free("a");
  auto hit = m.GetComputedBlocks("b", toks, none);
  ASSERT_EQ(hit.num_computed_tokens, 8);
  // 3 free blocks, 2 of them are the hit: the third fits, a fourth would not.
  EXPECT_FALSE(m.AllocateSlots("b", 8, 5, hit.block_ids).has_value());
  EXPECT_TRUE(m.CheckInvariants().ok());
  EXPECT_TRUE(m.AllocateSlots("b", 8, 4, hit.block_ids).has_value());
  EXPECT_EQ(m.num_free_blocks(), 0);
  EXPECT_TRUE(m.CheckInvariants().ok());
}

TEST(KVCacheManagerTest, ForkSharesAndCopyOnWrite) {
  KVCacheManager m(8, 4);
  ASSERT_TRUE(m.AllocateSlots("p", 0, 6).has_value());  // blocks b0 (full), b1 (2 of 4)
  auto parent = std::vector<int32_t>(m.GetBlockIds("p").begin(), m.GetBlockIds("p").end());
  m.Fork("p", "c");
  EXPECT_EQ(m.block_pool().ref_cnt(parent[1]), 2);
  // Parent writes token 6 into the shared partial block: it gets a copy.
  auto a = m.AllocateSlots("p", 6, 1);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(a->copy.has_value());
  EXPECT_EQ(a->copy->src_block, parent[1]);
  EXPECT_EQ(a->replaced_index, 1);
  EXPECT_EQ(m.GetBlockIds("p")[1], a->copy->dst_block);
  EXPECT_EQ(m.GetBlockIds("c")[1], parent[1]);
  EXPECT_EQ(m.block_pool().ref_cnt(parent[1]), 1);
  // The child now owns the block alone: no copy.
  auto b = m.AllocateSlots("c", 6, 1);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->copy.has_value());
  EXPECT_EQ(m.block_pool().ref_cnt(parent[0]), 2);  // full prompt block stays shared
  EXPECT_TRUE(m.CheckInvariants().ok());
  m.Free("p");
  m.Free("c");
  EXPECT_EQ(m.num_free_blocks(), 8);
}

TEST(KVCacheManagerTest, CopyOnWriteNeedsAFreeBlock) {
  KVCacheManager m(2, 4);
  ASSERT_TRUE(m.AllocateSlots("p", 0, 6).has_value());
  m.Fork("p", "c");
  EXPECT_FALSE(m.AllocateSlots("p", 6, 1).has_value());
  EXPECT_TRUE(m.CheckInvariants().ok());
}

}  // namespace
}  // namespace pagellm

#include "kv/block_pool.h"

#include <gtest/gtest.h>

#include "kv/kv_cache_utils.h"

namespace pagellm {
namespace {

TEST(FreeKVCacheBlockQueueTest, AppendPopRemoveInO1) {
  std::vector<KVCacheBlock> blocks(4);
  for (int i = 0; i < 4; ++i) blocks[i].block_id = i;
  FreeKVCacheBlockQueue q;
  for (auto& b : blocks) q.Append(&b);
  EXPECT_EQ(q.Ids(), (std::vector<int32_t>{0, 1, 2, 3}));
  q.Remove(&blocks[2]);
  EXPECT_EQ(q.Ids(), (std::vector<int32_t>{0, 1, 3}));
  EXPECT_EQ(q.PopLeft()->block_id, 0);
  q.Append(&blocks[2]);
  EXPECT_EQ(q.Ids(), (std::vector<int32_t>{1, 3, 2}));
  EXPECT_EQ(q.size(), 3);
}

TEST(BlockPoolTest, AllocFreeLruOrder) {
  BlockPool pool(4, true);
  auto a = pool.GetNewBlocks(3);
  EXPECT_EQ(a, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(pool.num_free_blocks(), 1);
  // Freed tail first: block 2 then 1 then 0 join the queue after block 3.
  std::vector<int32_t> rev = {2, 1, 0};
  pool.FreeBlocks(rev);
  EXPECT_EQ(pool.GetNewBlocks(2), (std::vector<int32_t>{3, 2}));
  EXPECT_TRUE(pool.CheckInvariants().ok());
}

TEST(BlockPoolTest, CachedBlockSurvivesFreeUntilEvicted) {
  BlockPool pool(2, true);
  auto a = pool.GetNewBlocks(1);
  pool.CacheFullBlock(a[0], 42);
  pool.FreeBlocks(a);
  ASSERT_EQ(pool.GetCachedBlock(42), a[0]);
  // A hit revives the free block: removed from the middle of the free queue.
  pool.Touch(a);
  EXPECT_EQ(pool.ref_cnt(a[0]), 1);
  EXPECT_EQ(pool.num_free_blocks(), 1);
  pool.FreeBlocks(a);
  // Allocating every block evicts the hash.
  auto all = pool.GetNewBlocks(2);
  EXPECT_FALSE(pool.GetCachedBlock(42).has_value());
  EXPECT_TRUE(pool.CheckInvariants().ok());
  pool.FreeBlocks(all);
  EXPECT_TRUE(pool.ResetPrefixCache());
}

TEST(BlockPoolTest, CachingDisabledNeverHits) {
  BlockPool pool(2, false);
  auto a = pool.GetNewBlocks(1);
  pool.CacheFullBlock(a[0], 7);
  EXPECT_FALSE(pool.GetCachedBlock(7).has_value());
}

TEST(KVCacheSizingTest, NumBlocksAndLogLine) {
  KVCacheSizingSpec spec{32, 8, 128, 2, 16};  // llama3-8b: 2*32*8*128*2*16 = 2 MiB per block
  EXPECT_EQ(spec.BytesPerBlock(), 2 * 1024 * 1024);
  auto s = ComputeKVCacheSizing(int64_t(10) << 30, spec, 8192);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->num_blocks, 5120);
  EXPECT_EQ(s->num_tokens, 81920);
  EXPECT_DOUBLE_EQ(s->max_concurrency, 10.0);
  std::string line = DescribeKVCacheSizing(*s, spec, 8192);
  EXPECT_NE(line.find("KV cache: 81,920 tokens"), std::string::npos) << line;
  EXPECT_NE(line.find("max concurrency 10.00x"), std::string::npos) << line;
}

TEST(KVCacheSizingTest, ClearErrors) {
  KVCacheSizingSpec spec{32, 8, 128, 2, 16};
  auto none = ComputeKVCacheSizing(1000, spec, 8192);
  EXPECT_EQ(none.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(none.status().message().find("No available memory"), std::string::npos);
  auto short_ctx = ComputeKVCacheSizing(int64_t(100) << 20, spec, 8192);  // 50 blocks = 800 tok
  EXPECT_EQ(short_ctx.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(short_ctx.status().message().find("estimated maximum model length is 800"),
            std::string::npos)
      << short_ctx.status().message();
  auto over = ComputeKVCacheSizing(0, spec, 1024, 100);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->num_blocks, 100);
  EXPECT_EQ(ComputeKVCacheSizing(0, spec, 1024, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputeKVCacheSizing(1 << 30, KVCacheSizingSpec{0, 8, 128, 2, 16}, 1024).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pagellm

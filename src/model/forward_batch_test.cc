#include "model/forward_batch.h"

#include <gtest/gtest.h>

namespace pagellm {
namespace {

TEST(BuildAttentionMetadata, MixedPrefillAndDecode) {
  std::vector<int32_t> a_blocks = {7, 2, 5}, b_blocks = {3};
  std::vector<SeqStep> seqs = {{5, 4, a_blocks}, {1, 2, b_blocks}};  // block size 4
  auto m = BuildAttentionMetadata(ExecCtx::Cpu(), seqs, 4);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->num_seqs, 2);
  EXPECT_EQ(m->num_tokens, 6);
  EXPECT_EQ(m->max_query_len, 5);
  EXPECT_EQ(m->max_seq_len, 9);
  EXPECT_FALSE(m->is_pure_decode);
  EXPECT_EQ(m->query_start_loc_host, (std::vector<int32_t>{0, 5, 6}));
  EXPECT_EQ(m->seq_lens_host, (std::vector<int32_t>{9, 3}));
  EXPECT_EQ(m->block_indptr_host, (std::vector<int32_t>{0, 3, 4}));
  EXPECT_EQ(m->block_indices_host, (std::vector<int32_t>{7, 2, 5, 3}));
  EXPECT_EQ(m->positions_host, (std::vector<int32_t>{4, 5, 6, 7, 8, 2}));
  // Positions 4..7 live in block 2, position 8 in block 5 (offset 0), b's position 2 in block 3.
  EXPECT_EQ(m->slot_mapping_host, (std::vector<int32_t>{8, 9, 10, 11, 20, 14}));
  EXPECT_EQ(m->positions.numel(), 6);
  EXPECT_EQ(m->slot_mapping.data<int32_t>()[4], 20);
  EXPECT_EQ(LastTokenRows(*m), (std::vector<int32_t>{4, 5}));
}

TEST(BuildAttentionMetadata, ExtraBlocksAreTrimmedAndDecodeFlagged) {
  std::vector<int32_t> blocks = {1, 4, 6};
  std::vector<SeqStep> seqs = {{1, 3, blocks}};
  auto m = BuildAttentionMetadata(ExecCtx::Cpu(), seqs, 4);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->is_pure_decode);
  EXPECT_EQ(m->block_indices_host, (std::vector<int32_t>{1}));
}

TEST(BuildAttentionMetadata, RejectsBadInput) {
  std::vector<int32_t> one = {0};
  std::vector<SeqStep> too_few = {{5, 0, one}};
  EXPECT_EQ(BuildAttentionMetadata(ExecCtx::Cpu(), too_few, 4).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<SeqStep> empty_query = {{0, 0, one}};
  EXPECT_FALSE(BuildAttentionMetadata(ExecCtx::Cpu(), empty_query, 4).ok());
  EXPECT_FALSE(BuildAttentionMetadata(ExecCtx::Cpu(), {}, 4).ok());
}

TEST(AllocateKVCache, ShapesPerLayer) {
  KVCacheSpec spec{3, 2, 8, DType::kBF16};
  EXPECT_EQ(spec.BytesPerBlock(16), 2 * 3 * 16 * 2 * 8 * 2);
  auto c = AllocateKVCache(spec, 5, 16, Device::Cpu());
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->k.size(), 3u);
  EXPECT_EQ(c->k[2].shape(), (Shape{5, 16, 2, 8}));
  EXPECT_EQ(c->v[0].dtype(), DType::kBF16);
}

}  // namespace
}  // namespace pagellm

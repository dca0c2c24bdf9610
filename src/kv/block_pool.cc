#include "kv/block_pool.h"

#include <fmt/format.h>

#include "base/check.h"

namespace pagellm {

FreeKVCacheBlockQueue::FreeKVCacheBlockQueue() {
  head_.next_free = &tail_;
  tail_.prev_free = &head_;
}

KVCacheBlock* FreeKVCacheBlockQueue::PopLeft() {
  CHECK_GT(size_, 0);
  KVCacheBlock* b = head_.next_free;
  Remove(b);
  return b;
}

void FreeKVCacheBlockQueue::Append(KVCacheBlock* block) {
  CHECK(block->prev_free == nullptr && block->next_free == nullptr)
      << "block " << block->block_id << " already in the free queue";
  KVCacheBlock* last = tail_.prev_free;
  last->next_free = block;
  block->prev_free = last;
  block->next_free = &tail_;
  tail_.prev_free = block;
  ++size_;
}

void FreeKVCacheBlockQueue::Remove(KVCacheBlock* block) {
  CHECK(block->prev_free != nullptr && block->next_free != nullptr)
      << "block " << block->block_id << " not in the free queue";
  block->prev_free->next_free = block->next_free;
  block->next_free->prev_free = block->prev_free;
  block->prev_free = block->next_free = nullptr;
  --size_;
}

std::vector<int32_t> FreeKVCacheBlockQueue::Ids() const {
  std::vector<int32_t> ids;
  for (const KVCacheBlock* b = head_.next_free; b != &tail_; b = b->next_free)
    ids.push_back(b->block_id);
  return ids;
}

BlockPool::BlockPool(int32_t num_blocks, bool enable_caching)
    : enable_caching_(enable_caching), blocks_(num_blocks) {
  CHECK_GT(num_blocks, 0);
  for (int32_t i = 0; i < num_blocks; ++i) {
    blocks_[i].block_id = i;
    free_queue_.Append(&blocks_[i]);
  }
}

std::vector<int32_t> BlockPool::GetNewBlocks(int32_t n) {
  CHECK_LE(n, num_free_blocks()) << "not enough free blocks";
  std::vector<int32_t> ids;
  ids.reserve(n);
  for (int32_t i = 0; i < n; ++i) {
    KVCacheBlock* b = free_queue_.PopLeft();
    MaybeEvictCachedBlock(b);
    CHECK_EQ(b->ref_cnt, 0);
    b->ref_cnt = 1;
    ids.push_back(b->block_id);
  }
  return ids;
}

void BlockPool::MaybeEvictCachedBlock(KVCacheBlock* block) {
  if (!block->block_hash) return;
  auto it = cached_.find(*block->block_hash);
  if (it != cached_.end() && it->second == block->block_id) cached_.erase(it);
  block->block_hash.reset();
}

std::optional<int32_t> BlockPool::GetCachedBlock(BlockHash hash) const {
  if (!enable_caching_) return std::nullopt;
  auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  return it->second;
}

void BlockPool::Touch(std::span<const int32_t> block_ids) {
  for (int32_t id : block_ids) {
    KVCacheBlock& b = blocks_[id];
    if (b.ref_cnt == 0) free_queue_.Remove(&b);
    ++b.ref_cnt;
  }
}

void BlockPool::FreeBlocks(std::span<const int32_t> block_ids) {
  for (int32_t id : block_ids) {
    KVCacheBlock& b = blocks_[id];
    CHECK_GT(b.ref_cnt, 0) << "double free of block " << id;
    if (--b.ref_cnt == 0) free_queue_.Append(&b);
  }
}

void BlockPool::CacheFullBlock(int32_t block_id, BlockHash hash) {
  if (!enable_caching_) return;
  KVCacheBlock& b = blocks_[block_id];
  if (b.block_hash) return;  // already cached (shared by a fork or a hit)
  if (cached_.count(hash)) return;
  b.block_hash = hash;
  cached_.emplace(hash, block_id);
}

bool BlockPool::ResetPrefixCache() {
  if (num_free_blocks() != num_blocks()) return false;
  cached_.clear();
  for (auto& b : blocks_) b.block_hash.reset();
  return true;
}

Status BlockPool::CheckInvariants() const {
  int32_t zero = 0;
  for (const auto& b : blocks_) {
    if (b.ref_cnt < 0) return InternalError(fmt::format("block {} ref_cnt < 0", b.block_id));
    if (b.ref_cnt == 0) ++zero;
    bool linked = b.prev_free != nullptr;
    if (linked != (b.ref_cnt == 0))
      return InternalError(fmt::format("block {} ref_cnt {} but linked={}", b.block_id, b.ref_cnt,
                                       linked));
  }
  std::vector<int32_t> ids = free_queue_.Ids();
  if (int32_t(ids.size()) != zero || free_queue_.size() != zero)
    return InternalError(fmt::format("free queue holds {} (size {}) but {} blocks have ref 0",
                                     ids.size(), free_queue_.size(), zero));
  for (const auto& [hash, id] : cached_)
    if (blocks_[id].block_hash != hash)
      return InternalError(fmt::format("cache index points at block {} without that hash", id));
  return OkStatus();
}

}  // namespace pagellm

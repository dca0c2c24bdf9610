// BlockPool: the KV cache blocks of one GPU as integer ids with reference counts, an LRU free
// queue and the prefix-cache index (block hash → block), after vLLM V1's BlockPool.
//
// A block is in exactly one of two states: used (ref_cnt > 0) or free (ref_cnt == 0, on the
// free queue). A free block may still hold a cached prefix (it keeps its hash until it is
// reused), so a later request can revive it with Touch(); allocation takes the least recently
// freed block first and evicts its hash.
// Thread-safety: not thread-safe (owned by the scheduler thread).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "kv/block_hash.h"

namespace pagellm {

struct KVCacheBlock {
  int32_t block_id = 0;
  int32_t ref_cnt = 0;
  std::optional<BlockHash> block_hash;  // set while the block is in the prefix cache
  // Intrusive links of the free queue (valid only while ref_cnt == 0).
  KVCacheBlock* prev_free = nullptr;
  KVCacheBlock* next_free = nullptr;
};

// Doubly linked list of free blocks: O(1) pop from the front, append, and removal of any block
// (a cache hit on a free block takes it out of the middle).
class FreeKVCacheBlockQueue {
 public:
  FreeKVCacheBlockQueue();
  FreeKVCacheBlockQueue(const FreeKVCacheBlockQueue&) = delete;
  FreeKVCacheBlockQueue& operator=(const FreeKVCacheBlockQueue&) = delete;

  // REQUIRES: size() > 0.
  KVCacheBlock* PopLeft();
  void Append(KVCacheBlock* block);
  // REQUIRES: block is in the queue.
  void Remove(KVCacheBlock* block);
  int32_t size() const { return size_; }
  // Block ids front to back (tests and invariant checks).
  std::vector<int32_t> Ids() const;

 private:
  KVCacheBlock head_;  // sentinels: no null checks on the links
  KVCacheBlock tail_;
  int32_t size_ = 0;
};

class BlockPool {
 public:
  BlockPool(int32_t num_blocks, bool enable_caching);
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  int32_t num_free_blocks() const { return free_queue_.size(); }
  bool enable_caching() const { return enable_caching_; }
  // Fraction of blocks in use (0..1).
  double usage() const { return 1.0 - double(num_free_blocks()) / num_blocks(); }
  int32_t ref_cnt(int32_t block_id) const { return blocks_[block_id].ref_cnt; }
  std::optional<BlockHash> block_hash(int32_t block_id) const {
    return blocks_[block_id].block_hash;
  }

  // Takes n blocks off the front of the free queue (evicting their cached hashes); ref_cnt = 1.
  // REQUIRES: n <= num_free_blocks().
  std::vector<int32_t> GetNewBlocks(int32_t n);
  // The cached block holding this hash, if any.
  std::optional<int32_t> GetCachedBlock(BlockHash hash) const;
  // Adds a reference to each block (revives free cached blocks: O(1) removal from the queue).
  void Touch(std::span<const int32_t> block_ids);
  // Drops one reference from each block, in the given order; blocks reaching 0 are appended to
  // the free queue in that order (callers pass a request's blocks tail first, so its last
  // blocks are evicted before its first ones).
  void FreeBlocks(std::span<const int32_t> block_ids);
  // Registers block_id as holding `hash` (a full block). A hash already cached by another
  // block keeps its first block; this one then stays uncached.
  void CacheFullBlock(int32_t block_id, BlockHash hash);
  // Forgets every cached hash. Returns false (and does nothing) while blocks are in use.
  bool ResetPrefixCache();

  int64_t num_cached_blocks() const { return static_cast<int64_t>(cached_.size()); }
  // Checks every invariant (free queue == blocks with ref 0, hash index consistent). For tests.
  Status CheckInvariants() const;

 private:
  void MaybeEvictCachedBlock(KVCacheBlock* block);

  bool enable_caching_;
  std::vector<KVCacheBlock> blocks_;
  FreeKVCacheBlockQueue free_queue_;
  std::unordered_map<BlockHash, int32_t> cached_;
};

}  // namespace pagellm

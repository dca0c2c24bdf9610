// KVCacheManager: per-request block tables over one BlockPool (vLLM V1's KVCacheManager with a
// single full-attention group).
//
// A request holds exactly ceil((num_computed + num_new + lookahead) / block_size) blocks: nothing
// is reserved ahead, so at most one partly filled block per sequence is wasted.
// Block tables may share blocks (prefix-cache hits, Fork()); a shared block is never written:
// AllocateSlots() replaces a shared block that is about to be written by a private copy and
// reports the copy (src → dst) for the model runner to execute before the step's forward pass.
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
#include "kv/block_pool.h"

namespace pagellm {

inline constexpr int32_t kDefaultBlockSize = 16;

// Copy the KV of block src into block dst (all layers), before the step runs.
struct BlockCopy {
  int32_t src_block = 0;
  int32_t dst_block = 0;
  bool operator==(const BlockCopy&) const = default;
};

struct ComputedBlocks {
  std::vector<int32_t> block_ids;  // cached blocks holding the request's prefix, in order
  int32_t num_computed_tokens = 0; // = block_ids.size() * block_size
};

struct SlotAllocation {
  std::vector<int32_t> new_block_ids;   // appended to the block table (after computed blocks)
  std::optional<BlockCopy> copy;         // copy-on-write of a shared block, if one was needed
  int32_t replaced_index = -1;           // block-table index that now holds copy->dst_block
};

class KVCacheManager {
 public:
  KVCacheManager(int32_t num_blocks, int32_t block_size = kDefaultBlockSize,
                 bool enable_caching = true);
  KVCacheManager(const KVCacheManager&) = delete;
  KVCacheManager& operator=(const KVCacheManager&) = delete;

  int32_t block_size() const { return block_size_; }
  const BlockPool& block_pool() const { return pool_; }
  int32_t num_free_blocks() const { return pool_.num_free_blocks(); }
  bool enable_caching() const { return pool_.enable_caching(); }

  // Longest cached prefix of token_ids in whole blocks, leaving at least the last token to be
  // computed (its logits are needed). The blocks are not yet referenced: pass them to
  // AllocateSlots() right away. REQUIRES: the request holds no blocks.
  ComputedBlocks GetComputedBlocks(const std::string& request_id,
                                   std::span<const int32_t> token_ids,
                                   const BlockHashExtraKeys& extra);

  // Makes room for num_new_tokens tokens after num_computed_tokens (+ lookahead), adopting
  // new_computed_blocks (from GetComputedBlocks; num_computed_tokens already counts them). Returns nullopt, changing nothing, when
  // the pool lacks free blocks.
  std::optional<SlotAllocation> AllocateSlots(const std::string& request_id,
                                              int32_t num_computed_tokens, int32_t num_new_tokens,
                                              std::span<const int32_t> new_computed_blocks = {},
                                              int32_t num_lookahead_tokens = 0);

  // Registers the request's full blocks among its first num_tokens tokens in the prefix cache.
  // Call once the step that computes them is scheduled (token_ids = prompt + output so far).
  void CacheBlocks(const std::string& request_id, std::span<const int32_t> token_ids,
                   int32_t num_tokens, const BlockHashExtraKeys& extra);

  // Releases the request's blocks (tail first, so its last blocks are evicted first).
  void Free(const std::string& request_id);

  // dst gets src's block table, sharing every block (ref counts +1). REQUIRES: dst holds none.
  void Fork(const std::string& src_request_id, const std::string& dst_request_id);

  std::span<const int32_t> GetBlockIds(const std::string& request_id) const;
  // Requests with any state (blocks or prefix hashes) here.
  int32_t num_requests() const { return static_cast<int32_t>(reqs_.size()); }

  // Evicts every cached prefix; false while any block is in use.
  bool ResetPrefixCache() { return pool_.ResetPrefixCache(); }

  // Tokens looked up / found in the prefix cache since construction.
  int64_t prefix_cache_queries() const { return prefix_cache_queries_; }
  int64_t prefix_cache_hits() const { return prefix_cache_hits_; }

  // Pool invariants plus: each block's ref_cnt == number of block-table entries naming it.
  Status CheckInvariants() const;

 private:
  struct RequestBlocks {
    std::vector<int32_t> blocks;     // the block table
    std::vector<BlockHash> hashes;   // of the request's full blocks hashed so far
    int32_t num_cached = 0;          // leading blocks already registered in the prefix cache
  };

  BlockPool pool_;
  int32_t block_size_;
  std::unordered_map<std::string, RequestBlocks> reqs_;
  int64_t prefix_cache_queries_ = 0;
  int64_t prefix_cache_hits_ = 0;
};

}  // namespace pagellm

// Block hashes for automatic prefix caching: each FULL block is named by
// hash(parent block hash, its token ids, extra keys), so equal hashes mean equal whole prefixes
// (a hit on block i implies every earlier block matched too).
// The hash is 64-bit (a strong mixer over every token); a collision would need ~2^32 cached
// blocks to become likely, far beyond any pool.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pagellm {

using BlockHash = uint64_t;

// What else must match for two equal token blocks to share KV (LoRA id, multimodal hashes,
// cache_salt). `salt` only enters the first block (like vLLM's cache_salt); `keys` enter
// every block.
struct BlockHashExtraKeys {
  std::string salt;
  std::vector<int64_t> keys;
};

BlockHash HashBlockTokens(BlockHash parent, std::span<const int32_t> tokens,
                          const BlockHashExtraKeys& extra, bool first_block);

// Extends `hashes` (one per full block of `token_ids` already hashed) with the hashes of the
// further full blocks in token_ids.
void AppendBlockHashes(std::span<const int32_t> token_ids, int32_t block_size,
                       const BlockHashExtraKeys& extra, std::vector<BlockHash>& hashes);

}  // namespace pagellm

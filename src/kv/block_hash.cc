#include "kv/block_hash.h"

namespace pagellm {
namespace {

// splitmix64's finalizer: a bijective 64-bit mixer with full avalanche.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t Combine(uint64_t h, uint64_t v) { return Mix(h ^ Mix(v)) * 0x100000001b3ULL + v; }

}  // namespace

BlockHash HashBlockTokens(BlockHash parent, std::span<const int32_t> tokens,
                          const BlockHashExtraKeys& extra, bool first_block) {
  uint64_t h = Mix(parent ^ 0x6a09e667f3bcc908ULL);
  h = Combine(h, tokens.size());
  for (int32_t t : tokens) h = Combine(h, static_cast<uint32_t>(t));
  h = Combine(h, extra.keys.size());
  for (int64_t k : extra.keys) h = Combine(h, static_cast<uint64_t>(k));
  if (first_block && !extra.salt.empty()) {
    h = Combine(h, extra.salt.size());
    for (unsigned char c : extra.salt) h = Combine(h, c);
  }
  return Mix(h);
}

void AppendBlockHashes(std::span<const int32_t> token_ids, int32_t block_size,
                       const BlockHashExtraKeys& extra, std::vector<BlockHash>& hashes) {
  size_t num_full = token_ids.size() / block_size;
  for (size_t i = hashes.size(); i < num_full; ++i) {
    BlockHash parent = i == 0 ? 0 : hashes[i - 1];
    hashes.push_back(HashBlockTokens(parent, token_ids.subspan(i * block_size, block_size), extra,
                                     i == 0));
  }
}

}  // namespace pagellm

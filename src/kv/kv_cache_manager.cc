#include "kv/kv_cache_manager.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/check.h"

namespace pagellm {

KVCacheManager::KVCacheManager(int32_t num_blocks, int32_t block_size, bool enable_caching)
    : pool_(num_blocks, enable_caching), block_size_(block_size) {
  CHECK_GT(block_size, 0);
}

ComputedBlocks KVCacheManager::GetComputedBlocks(const std::string& request_id,
                                                 std::span<const int32_t> token_ids,
                                                 const BlockHashExtraKeys& extra) {
  ComputedBlocks out;
  auto existing = reqs_.find(request_id);
  CHECK(existing == reqs_.end() || existing->second.blocks.empty())
      << request_id << " already holds blocks";
  if (!enable_caching() || token_ids.empty()) return out;
  std::vector<BlockHash>& hashes = reqs_[request_id].hashes;
  hashes.clear();
  AppendBlockHashes(token_ids, block_size_, extra, hashes);
  // The last token must be recomputed to produce logits, even on a full hit.
  size_t max_blocks = (token_ids.size() - 1) / block_size_;
  for (size_t i = 0; i < std::min(max_blocks, hashes.size()); ++i) {
    std::optional<int32_t> b = pool_.GetCachedBlock(hashes[i]);
    if (!b) break;
    out.block_ids.push_back(*b);
  }
  out.num_computed_tokens = static_cast<int32_t>(out.block_ids.size()) * block_size_;
  prefix_cache_queries_ += static_cast<int64_t>(token_ids.size());
  prefix_cache_hits_ += out.num_computed_tokens;
  return out;
}

std::optional<SlotAllocation> KVCacheManager::AllocateSlots(
    const std::string& request_id, int32_t num_computed_tokens, int32_t num_new_tokens,
    std::span<const int32_t> new_computed_blocks, int32_t num_lookahead_tokens) {
  CHECK_GE(num_new_tokens, 0);
  auto [it, inserted] = reqs_.try_emplace(request_id);
  RequestBlocks& req = it->second;
  std::vector<int32_t>& blocks = req.blocks;
  const int32_t total_tokens = num_computed_tokens + num_new_tokens + num_lookahead_tokens;
  const int32_t num_required = (total_tokens + block_size_ - 1) / block_size_;
  const int32_t held = static_cast<int32_t>(blocks.size() + new_computed_blocks.size());
  const int32_t num_new_blocks = std::max(0, num_required - held);
  // The first block written this step must be private: copy it if it is shared.
  const int32_t write_index = num_computed_tokens / block_size_;
  const bool cow = num_new_tokens > 0 && new_computed_blocks.empty() &&
                   write_index < int32_t(blocks.size()) &&
                   pool_.ref_cnt(blocks[write_index]) > 1;
  int32_t evictable = 0;  // free cached blocks that adopting them takes off the free queue
  for (int32_t b : new_computed_blocks)
    if (pool_.ref_cnt(b) == 0) ++evictable;
  if (num_new_blocks + (cow ? 1 : 0) > pool_.num_free_blocks() - evictable) {
    if (inserted) reqs_.erase(it);
    return std::nullopt;
  }
  SlotAllocation out;
  pool_.Touch(new_computed_blocks);
  blocks.insert(blocks.end(), new_computed_blocks.begin(), new_computed_blocks.end());
  req.num_cached = std::max<int32_t>(req.num_cached, int32_t(new_computed_blocks.size()));
  if (cow) {
    int32_t src = blocks[write_index];
    int32_t dst = pool_.GetNewBlocks(1)[0];
    pool_.FreeBlocks(std::span<const int32_t>(&src, 1));
    blocks[write_index] = dst;
    out.copy = BlockCopy{src, dst};
    out.replaced_index = write_index;
    // The copy is not in the cache index; let CacheBlocks() register it once it is full.
    req.num_cached = std::min(req.num_cached, write_index);
  }
  out.new_block_ids = pool_.GetNewBlocks(num_new_blocks);
  blocks.insert(blocks.end(), out.new_block_ids.begin(), out.new_block_ids.end());
  return out;
}

void KVCacheManager::CacheBlocks(const std::string& request_id,
                                 std::span<const int32_t> token_ids, int32_t num_tokens,
                                 const BlockHashExtraKeys& extra) {
  if (!enable_caching()) return;
  auto it = reqs_.find(request_id);
  if (it == reqs_.end()) return;
  RequestBlocks& req = it->second;
  int32_t num_full = std::min<int32_t>(num_tokens / block_size_, int32_t(req.blocks.size()));
  if (num_full <= req.num_cached) return;
  AppendBlockHashes(token_ids.first(size_t(num_full) * block_size_), block_size_, extra,
                    req.hashes);
  for (int32_t i = req.num_cached; i < num_full; ++i)
    pool_.CacheFullBlock(req.blocks[i], req.hashes[i]);
  req.num_cached = num_full;
}

void KVCacheManager::Free(const std::string& request_id) {
  auto it = reqs_.find(request_id);
  if (it == reqs_.end()) return;
  std::vector<int32_t> reversed(it->second.blocks.rbegin(), it->second.blocks.rend());
  pool_.FreeBlocks(reversed);
  reqs_.erase(it);
}

void KVCacheManager::Fork(const std::string& src_request_id, const std::string& dst_request_id) {
  auto dst = reqs_.find(dst_request_id);
  CHECK(dst == reqs_.end() || dst->second.blocks.empty())
      << dst_request_id << " already holds blocks";
  auto it = reqs_.find(src_request_id);
  CHECK(it != reqs_.end()) << "fork of unknown request " << src_request_id;
  RequestBlocks copy = it->second;
  pool_.Touch(copy.blocks);
  reqs_[dst_request_id] = std::move(copy);
}

std::span<const int32_t> KVCacheManager::GetBlockIds(const std::string& request_id) const {
  auto it = reqs_.find(request_id);
  if (it == reqs_.end()) return {};
  return it->second.blocks;
}

Status KVCacheManager::CheckInvariants() const {
  RETURN_IF_ERROR(pool_.CheckInvariants());
  std::vector<int32_t> refs(pool_.num_blocks(), 0);
  for (const auto& [id, req] : reqs_)
    for (int32_t b : req.blocks) {
      if (b < 0 || b >= pool_.num_blocks())
        return InternalError(fmt::format("request {} holds bad block {}", id, b));
      ++refs[b];
    }
  int64_t used = 0;
  for (int32_t b = 0; b < pool_.num_blocks(); ++b) {
    if (refs[b] != pool_.ref_cnt(b))
      return InternalError(fmt::format("block {} ref_cnt {} but {} table entries", b,
                                       pool_.ref_cnt(b), refs[b]));
    if (refs[b] > 0) ++used;
  }
  if (used + pool_.num_free_blocks() != pool_.num_blocks())
    return InternalError(fmt::format("used {} + free {} != total {}", used,
                                     pool_.num_free_blocks(), pool_.num_blocks()));
  return OkStatus();
}

}  // namespace pagellm

// Test harness: drives a Model step by step over a paged KV cache with a shuffled block pool,
// the way an engine would (prefill, chunked prefill, decode, several sequences per step).
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "model/model.h"

namespace pagellm::testing {

class PagedHarness {
 public:
  // REQUIRES: model outlives the harness. Blocks are handed out in a seeded random order.
  PagedHarness(Model* model, int32_t num_blocks, int32_t block_size, uint64_t seed);

  // One forward step: each entry is (sequence id, its new tokens). Returns the logits of every
  // token row, in batch order, or of the last token of each sequence when last_only.
  StatusOr<std::vector<std::vector<float>>> Step(
      const std::vector<std::pair<int, std::vector<int32_t>>>& batch, bool last_only = false);

  // Greedy decoding: prefill `prompt` (in chunks of `chunk` tokens, 0 = all at once), then
  // decode until `num_new` ids are generated (the first comes from the prefill). REQUIRES num_new >= 1.
  StatusOr<std::vector<int32_t>> Greedy(int seq, const std::vector<int32_t>& prompt, int num_new,
                                        int chunk = 0);

  int32_t cached_tokens(int seq) const;

 private:
  Model* model_;
  KVCache cache_;
  int32_t block_size_;
  std::vector<int32_t> free_blocks_;
  std::map<int, std::vector<int32_t>> blocks_;
  std::map<int, int32_t> cached_;
};

int32_t ArgMax(const std::vector<float>& v);

}  // namespace pagellm::testing

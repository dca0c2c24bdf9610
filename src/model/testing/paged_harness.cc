#include "model/testing/paged_harness.h"

#include <algorithm>
#include <random>

#include "base/check.h"
#include "model/forward_batch.h"
#include "ops/ops.h"

namespace pagellm::testing {

PagedHarness::PagedHarness(Model* model, int32_t num_blocks, int32_t block_size, uint64_t seed)
    : model_(model), block_size_(block_size) {
  auto cache = AllocateKVCache(model->kv_cache_spec(), num_blocks, block_size, model->device());
  CHECK(cache.ok()) << cache.status().ToString();
  cache_ = std::move(cache).value();
  for (int32_t b = 0; b < num_blocks; ++b) free_blocks_.push_back(b);
  std::mt19937_64 rng(seed);
  std::shuffle(free_blocks_.begin(), free_blocks_.end(), rng);
}

int32_t PagedHarness::cached_tokens(int seq) const {
  auto it = cached_.find(seq);
  return it == cached_.end() ? 0 : it->second;
}

StatusOr<std::vector<std::vector<float>>> PagedHarness::Step(
    const std::vector<std::pair<int, std::vector<int32_t>>>& batch, bool last_only) {
  std::vector<SeqStep> steps;
  std::vector<int32_t> ids;
  for (const auto& [seq, tokens] : batch) {
    std::vector<int32_t>& blocks = blocks_[seq];
    const int32_t total = cached_tokens(seq) + static_cast<int32_t>(tokens.size());
    while (static_cast<int32_t>(blocks.size()) * block_size_ < total) {
      if (free_blocks_.empty()) return ResourceExhaustedError("harness out of KV blocks");
      blocks.push_back(free_blocks_.back());
      free_blocks_.pop_back();
    }
    steps.push_back(SeqStep{static_cast<int32_t>(tokens.size()), cached_tokens(seq), blocks});
    ids.insert(ids.end(), tokens.begin(), tokens.end());
  }
  ExecCtx ctx;
  ctx.device = model_->device();
  ASSIGN_OR_RETURN(AttentionMetadata meta, BuildAttentionMetadata(ctx, steps, block_size_));
  ASSIGN_OR_RETURN(Tensor id_tensor, IntsToDevice(ctx, ids));
  Tensor rows;
  if (last_only) {
    ASSIGN_OR_RETURN(rows, IntsToDevice(ctx, LastTokenRows(meta)));
  }
  ASSIGN_OR_RETURN(Tensor logits,
                   model_->Forward(ctx, id_tensor, meta, cache_, last_only ? &rows : nullptr));
  for (const auto& [seq, tokens] : batch) cached_[seq] += static_cast<int32_t>(tokens.size());
  if (!logits.device().is_cpu()) {  // read device logits through a host copy
    Tensor host = Tensor::EmptyHost(logits.shape(), logits.dtype());
    RETURN_IF_ERROR(ops::Copy(ctx, logits, host));
    logits = host;
  }
  std::vector<float> flat = logits.ToFloatVector();
  const int64_t v = logits.dim(1);
  std::vector<std::vector<float>> out;
  for (int64_t r = 0; r < logits.dim(0); ++r)
    out.emplace_back(flat.begin() + r * v, flat.begin() + (r + 1) * v);
  return out;
}

StatusOr<std::vector<int32_t>> PagedHarness::Greedy(int seq, const std::vector<int32_t>& prompt,
                                                     int num_new, int chunk) {
  if (chunk <= 0) chunk = static_cast<int>(prompt.size());
  std::vector<float> last;
  for (size_t i = 0; i < prompt.size(); i += chunk) {
    size_t end = std::min(prompt.size(), i + chunk);
    std::vector<int32_t> part(prompt.begin() + i, prompt.begin() + end);
    ASSIGN_OR_RETURN(auto rows, Step({{seq, part}}, /*last_only=*/true));
    last = rows.back();
  }
  std::vector<int32_t> out{ArgMax(last)};
  while (static_cast<int>(out.size()) < num_new) {
    ASSIGN_OR_RETURN(auto rows, Step({{seq, {out.back()}}}, true));
    out.push_back(ArgMax(rows.back()));
  }
  return out;
}

int32_t ArgMax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace pagellm::testing

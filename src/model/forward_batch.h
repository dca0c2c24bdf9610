// Host-side planning of one forward pass over the paged KV cache, free of model specifics:
// the runner/engine and tests describe each sequence's part of the step and get the
// AttentionMetadata (ops/attention_metadata.h) the model needs. Also the KV cache tensors.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "ops/attention_metadata.h"
#include "ops/exec_ctx.h"
#include "tensor/tensor.h"

namespace pagellm {

// One sequence's share of a step.
struct SeqStep {
  int32_t num_new_tokens = 0;     // query tokens this step (1 for decode, >1 for (chunked) prefill)
  int32_t num_cached_tokens = 0;  // tokens whose K/V are already in the cache before this step
  // Block ids holding this sequence's tokens in order; must cover num_cached_tokens +
  // num_new_tokens tokens (extra trailing blocks are allowed).
  std::span<const int32_t> block_ids;
};

// Builds the metadata for the sequences in order (tokens flattened in the same order).
// The int32 tensors are placed on ctx.device (copied from the host arrays, which stay valid).
// Errors (InvalidArgument) for empty steps, negative counts, or too few blocks.
StatusOr<AttentionMetadata> BuildAttentionMetadata(const ExecCtx& ctx,
                                                   std::span<const SeqStep> seqs,
                                                   int32_t block_size);

// Uploads a host int32 vector to a fresh tensor on ctx.device (host: a plain copy).
StatusOr<Tensor> IntsToDevice(const ExecCtx& ctx, const std::vector<int32_t>& v);

// Row index of the last token of every sequence (the usual `logits_rows`).
std::vector<int32_t> LastTokenRows(const AttentionMetadata& meta);

// Shape of the KV cache a model needs (per layer K and V of
// [num_blocks, block_size, num_kv_heads, head_dim]).
struct KVCacheSpec {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  DType dtype = DType::kF32;
  // Bytes of K+V over all layers for one block of `block_size` tokens.
  int64_t BytesPerBlock(int32_t block_size) const {
    return 2 * num_layers * block_size * num_kv_heads * head_dim *
           static_cast<int64_t>(DTypeSize(dtype));
  }
};

struct KVCache {
  int32_t num_blocks = 0;
  int32_t block_size = 0;
  std::vector<Tensor> k;  // [num_layers] of [num_blocks, block_size, num_kv_heads, head_dim]
  std::vector<Tensor> v;
};

// Allocates (uninitialized) caches; ResourceExhausted/Unavailable from the allocator pass through.
StatusOr<KVCache> AllocateKVCache(const KVCacheSpec& spec, int32_t num_blocks, int32_t block_size,
                                  Device device);

}  // namespace pagellm

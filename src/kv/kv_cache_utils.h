// Sizing the KV cache: how many blocks fit in the bytes given to the cache (vLLM's
// --kv-cache-memory / gpu_memory_utilization leftover), and the startup log line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"

namespace pagellm {

struct KVCacheSizingSpec {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;  // per rank (after tensor-parallel sharding)
  int64_t head_dim = 0;
  int64_t dtype_size = 2;    // bytes per element of the cache dtype
  int64_t block_size = 16;   // tokens per block

  // K and V of every layer for block_size tokens.
  int64_t BytesPerBlock() const { return 2 * num_layers * num_kv_heads * head_dim * dtype_size * block_size; }
};

struct KVCacheSizing {
  int64_t num_blocks = 0;
  int64_t num_tokens = 0;        // num_blocks * block_size
  double max_concurrency = 0.0;  // num_tokens / max_model_len
};

// Blocks that fit in available_bytes (or num_gpu_blocks_override when given). Errors
// (ResourceExhausted) when no block fits, or when one request of max_model_len tokens does not
// fit, saying how much memory is needed and the largest max_model_len that would fit.
StatusOr<KVCacheSizing> ComputeKVCacheSizing(int64_t available_bytes, const KVCacheSizingSpec& spec,
                                             int64_t max_model_len,
                                             std::optional<int64_t> num_gpu_blocks_override = {});

// "KV cache: 123,456 tokens (7,716 blocks of 16, 15.07 GiB), max concurrency 30.14x for 4,096
// tokens per request".
std::string DescribeKVCacheSizing(const KVCacheSizing& s, const KVCacheSizingSpec& spec,
                                  int64_t max_model_len);

}  // namespace pagellm

#include "kv/kv_cache_utils.h"

#include <fmt/format.h>

namespace pagellm {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// 1234567 → "1,234,567".
std::string Grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

}  // namespace

StatusOr<KVCacheSizing> ComputeKVCacheSizing(int64_t available_bytes, const KVCacheSizingSpec& spec,
                                             int64_t max_model_len,
                                             std::optional<int64_t> num_gpu_blocks_override) {
  if (spec.num_layers <= 0 || spec.num_kv_heads <= 0 || spec.head_dim <= 0 ||
      spec.dtype_size <= 0 || spec.block_size <= 0)
    return InvalidArgumentError(fmt::format(
        "invalid KV cache shape: layers={} kv_heads={} head_dim={} dtype_size={} block_size={}",
        spec.num_layers, spec.num_kv_heads, spec.head_dim, spec.dtype_size, spec.block_size));
  if (max_model_len <= 0)
    return InvalidArgumentError(fmt::format("max_model_len must be positive, got {}", max_model_len));
  const int64_t per_block = spec.BytesPerBlock();
  KVCacheSizing s;
  if (num_gpu_blocks_override) {
    if (*num_gpu_blocks_override <= 0)
      return InvalidArgumentError(fmt::format("--num-gpu-blocks-override must be positive, got {}",
                                              *num_gpu_blocks_override));
    s.num_blocks = *num_gpu_blocks_override;
  } else {
    s.num_blocks = available_bytes > 0 ? available_bytes / per_block : 0;
    if (s.num_blocks <= 0)
      return ResourceExhaustedError(fmt::format(
          "No available memory for the cache blocks: {:.2f} GiB available, one block of {} tokens "
          "needs {:.4f} GiB. Try increasing `gpu_memory_utilization` or `--kv-cache-memory`.",
          double(available_bytes) / kGiB, spec.block_size, double(per_block) / kGiB));
  }
  s.num_tokens = s.num_blocks * spec.block_size;
  s.max_concurrency = double(s.num_tokens) / double(max_model_len);
  const int64_t needed_blocks = (max_model_len + spec.block_size - 1) / spec.block_size;
  if (s.num_blocks < needed_blocks)
    return ResourceExhaustedError(fmt::format(
        "To serve at least one request with the model's max seq len ({}), {:.2f} GiB KV cache is "
        "needed, which is larger than the available KV cache memory ({:.2f} GiB). Based on the "
        "available memory, the estimated maximum model length is {}. Try increasing "
        "`gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
        max_model_len, double(needed_blocks * per_block) / kGiB,
        double(s.num_blocks * per_block) / kGiB, s.num_tokens));
  return s;
}

std::string DescribeKVCacheSizing(const KVCacheSizing& s, const KVCacheSizingSpec& spec,
                                  int64_t max_model_len) {
  return fmt::format(
      "KV cache: {} tokens ({} blocks of {}, {:.2f} GiB), max concurrency {:.2f}x for {} tokens "
      "per request",
      Grouped(s.num_tokens), Grouped(s.num_blocks), spec.block_size,
      double(s.num_blocks * spec.BytesPerBlock()) / kGiB, s.max_concurrency,
      Grouped(max_model_len));
}

}  // namespace pagellm

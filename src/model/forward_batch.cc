#include "model/forward_batch.h"

#include <algorithm>

#include <fmt/format.h>

#include "ops/ops.h"

namespace pagellm {

StatusOr<Tensor> IntsToDevice(const ExecCtx& ctx, const std::vector<int32_t>& v) {
  Tensor host = Tensor::FromInts(v);
  if (ctx.device.is_cpu()) return host;
  ASSIGN_OR_RETURN(Tensor dev, Tensor::Empty(host.shape(), DType::kI32, ctx.device));
  RETURN_IF_ERROR(ops::Copy(ctx, host, dev));
  return dev;
}

namespace {

Status CheckSeq(const SeqStep& s, size_t i, int32_t block_size) {
  if (s.num_new_tokens <= 0 || s.num_cached_tokens < 0)
    return InvalidArgumentError(fmt::format("sequence {}: {} new tokens, {} cached", i,
                                            s.num_new_tokens, s.num_cached_tokens));
  int64_t total = int64_t{s.num_cached_tokens} + s.num_new_tokens;
  int64_t need = (total + block_size - 1) / block_size;
  if (static_cast<int64_t>(s.block_ids.size()) < need)
    return InvalidArgumentError(fmt::format("sequence {}: {} tokens need {} blocks, got {}", i,
                                            total, need, s.block_ids.size()));
  for (int32_t b : s.block_ids)
    if (b < 0) return InvalidArgumentError(fmt::format("sequence {}: negative block id", i));
  return OkStatus();
}

}  // namespace

StatusOr<AttentionMetadata> BuildAttentionMetadata(const ExecCtx& ctx,
                                                   std::span<const SeqStep> seqs,
                                                   int32_t block_size) {
  if (seqs.empty()) return InvalidArgumentError("empty forward batch");
  if (block_size <= 0) return InvalidArgumentError("block_size must be positive");
  AttentionMetadata m;
  m.num_seqs = static_cast<int32_t>(seqs.size());
  m.block_size = block_size;
  m.is_pure_decode = true;
  m.query_start_loc_host.push_back(0);
  m.block_indptr_host.push_back(0);
  for (size_t i = 0; i < seqs.size(); ++i) {
    const SeqStep& s = seqs[i];
    RETURN_IF_ERROR(CheckSeq(s, i, block_size));
    int32_t total = s.num_cached_tokens + s.num_new_tokens;
    int32_t used_blocks = (total + block_size - 1) / block_size;
    m.query_start_loc_host.push_back(m.query_start_loc_host.back() + s.num_new_tokens);
    m.seq_lens_host.push_back(total);
    m.block_indices_host.insert(m.block_indices_host.end(), s.block_ids.begin(),
                                s.block_ids.begin() + used_blocks);
    m.block_indptr_host.push_back(static_cast<int32_t>(m.block_indices_host.size()));
    for (int32_t p = s.num_cached_tokens; p < total; ++p) {
      m.positions_host.push_back(p);
      m.slot_mapping_host.push_back(s.block_ids[p / block_size] * block_size + p % block_size);
    }
    m.max_query_len = std::max(m.max_query_len, s.num_new_tokens);
    m.max_seq_len = std::max(m.max_seq_len, total);
    m.is_pure_decode &= s.num_new_tokens == 1;
  }
  m.num_tokens = m.query_start_loc_host.back();
  ASSIGN_OR_RETURN(m.query_start_loc, IntsToDevice(ctx, m.query_start_loc_host));
  ASSIGN_OR_RETURN(m.seq_lens, IntsToDevice(ctx, m.seq_lens_host));
  ASSIGN_OR_RETURN(m.block_indptr, IntsToDevice(ctx, m.block_indptr_host));
  ASSIGN_OR_RETURN(m.block_indices, IntsToDevice(ctx, m.block_indices_host));
  ASSIGN_OR_RETURN(m.slot_mapping, IntsToDevice(ctx, m.slot_mapping_host));
  ASSIGN_OR_RETURN(m.positions, IntsToDevice(ctx, m.positions_host));
  return m;
}

std::vector<int32_t> LastTokenRows(const AttentionMetadata& meta) {
  std::vector<int32_t> rows;
  for (int32_t s = 0; s < meta.num_seqs; ++s) rows.push_back(meta.query_start_loc_host[s + 1] - 1);
  return rows;
}

StatusOr<KVCache> AllocateKVCache(const KVCacheSpec& spec, int32_t num_blocks, int32_t block_size,
                                  Device device) {
  if (num_blocks <= 0 || block_size <= 0)
    return InvalidArgumentError("KV cache needs positive num_blocks and block_size");
  KVCache c;
  c.num_blocks = num_blocks;
  c.block_size = block_size;
  Shape shape{num_blocks, block_size, spec.num_kv_heads, spec.head_dim};
  for (int64_t l = 0; l < spec.num_layers; ++l) {
    ASSIGN_OR_RETURN(Tensor k, Tensor::Empty(shape, spec.dtype, device));
    ASSIGN_OR_RETURN(Tensor v, Tensor::Empty(shape, spec.dtype, device));
    c.k.push_back(std::move(k));
    c.v.push_back(std::move(v));
  }
  return c;
}

}  // namespace pagellm

#include "runner/decode_graphs.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/logging.h"
#include "ops/ops.h"

namespace pagellm {

StatusOr<std::unique_ptr<DecodeGraphs>> DecodeGraphs::Create(const ExecCtx& ctx, Model* model,
                                                             KVCache* cache,
                                                             const DecodeGraphsConfig& config) {
  if (!ops::GraphCaptureSupported(ctx))
    return FailedPreconditionError("DecodeGraphs: graph capture is not supported here");
  if (!model->SupportsGraphCapture())
    return FailedPreconditionError("DecodeGraphs: the model cannot be captured");
  if (config.max_batch <= 0 || config.max_model_len <= 0 || config.block_size <= 0)
    return InvalidArgumentError("DecodeGraphs: bad config");
  std::unique_ptr<DecodeGraphs> g(new DecodeGraphs(ctx, model, cache, config));
  RETURN_IF_ERROR(model->ReserveActivations(std::max<int64_t>(config.max_step_tokens,
                                                              config.max_batch)));
  g->generation_ = model->activation_generation();
  const int64_t b = config.max_batch;
  Layout& l = g->layout_;
  l.tokens = 0;
  l.positions = b;
  l.slots = 2 * b;
  l.seq_lens = 3 * b;
  l.query_start = 4 * b;
  l.indptr = 5 * b + 1;
  l.rows = 6 * b + 2;
  l.indices = 7 * b + 2;
  l.total = l.indices + b * g->max_blocks_per_seq_;
  ASSIGN_OR_RETURN(g->inputs_, Tensor::Empty(Shape{l.total}, DType::kI32, ctx.device));
  ASSIGN_OR_RETURN(g->logits_,
                   Tensor::Empty(Shape{b, model->vocab_size()}, DType::kF32, ctx.device));
  return g;
}

DecodeGraphs::DecodeGraphs(const ExecCtx& ctx, Model* model, KVCache* cache,
                           const DecodeGraphsConfig& config)
    : ctx_(ctx), model_(model), cache_(cache), config_(config) {
  for (int32_t s : {1, 2, 4})
    if (s <= config.max_batch) buckets_.push_back(s);
  for (int32_t s = 8; s <= config.max_batch; s += 8) buckets_.push_back(s);
  if (buckets_.back() != config.max_batch) buckets_.push_back(config.max_batch);
  max_blocks_per_seq_ = (config.max_model_len + config.block_size - 1) / config.block_size;
}

int32_t DecodeGraphs::BucketFor(int32_t num_seqs) const {
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), num_seqs);
  return num_seqs <= 0 || it == buckets_.end() ? 0 : *it;
}

Tensor DecodeGraphs::View(int64_t offset, int64_t n) const { return inputs_.Slice(0, offset, offset + n); }

Status DecodeGraphs::Upload(int32_t bucket, std::span<const int32_t> token_ids,
                            std::span<const SeqStep> seqs) {
  const int32_t bs = config_.block_size;
  tokens_.assign(bucket, 0);
  positions_.assign(bucket, 0);
  slots_.assign(bucket, -1);
  seq_lens_.assign(bucket, 1);
  query_start_.resize(bucket + 1);
  indptr_.assign(1, 0);
  indices_.clear();
  for (int32_t i = 0; i < bucket; ++i) {
    query_start_[i] = i;
    if (i < static_cast<int32_t>(seqs.size())) {
      const SeqStep& s = seqs[i];
      const int32_t pos = s.num_cached_tokens, len = pos + 1;
      const int32_t nb = (len + bs - 1) / bs;
      if (s.num_new_tokens != 1 || static_cast<int32_t>(s.block_ids.size()) < nb ||
          nb > max_blocks_per_seq_)
        return InvalidArgumentError(fmt::format(
            "DecodeGraphs: sequence {} is not a decode step that fits ({} new tokens, {} blocks)",
            i, s.num_new_tokens, s.block_ids.size()));
      tokens_[i] = token_ids[i];
      positions_[i] = pos;
      slots_[i] = s.block_ids[pos / bs] * bs + pos % bs;
      seq_lens_[i] = len;
      indices_.insert(indices_.end(), s.block_ids.begin(), s.block_ids.begin() + nb);
    } else {
      indices_.push_back(0);  // padding: reads block 0, writes nothing
    }
    indptr_.push_back(static_cast<int32_t>(indices_.size()));
  }
  query_start_[bucket] = bucket;
  const Layout& l = layout_;
  std::vector<int32_t> staging(static_cast<size_t>(l.indices) + indices_.size(), 0);
  auto put = [&](int64_t off, const std::vector<int32_t>& v) {
    std::copy(v.begin(), v.end(), staging.begin() + off);
  };
  put(l.tokens, tokens_);
  put(l.positions, positions_);
  put(l.slots, slots_);
  put(l.seq_lens, seq_lens_);
  put(l.query_start, query_start_);
  put(l.indptr, indptr_);
  for (int32_t r = 0; r < config_.max_batch; ++r) staging[l.rows + r] = r;
  put(l.indices, indices_);
  Tensor host = Tensor::FromInts(staging);
  Tensor dst = View(0, static_cast<int64_t>(staging.size()));
  return ops::Copy(ctx_, host, dst);
}

AttentionMetadata DecodeGraphs::MetadataFor(int32_t bucket) const {
  const Layout& l = layout_;
  AttentionMetadata m;
  m.num_seqs = bucket;
  m.num_tokens = bucket;
  m.block_size = config_.block_size;
  m.max_query_len = 1;
  m.max_seq_len = *std::max_element(seq_lens_.begin(), seq_lens_.end());
  m.is_pure_decode = true;
  m.plan_max_seq_len = config_.max_model_len;
  m.query_start_loc = View(l.query_start, bucket + 1);
  m.seq_lens = View(l.seq_lens, bucket);
  m.block_indptr = View(l.indptr, bucket + 1);
  m.block_indices = View(l.indices, static_cast<int64_t>(indices_.size()));
  m.slot_mapping = View(l.slots, bucket);
  m.positions = View(l.positions, bucket);
  m.query_start_loc_host = query_start_;
  m.seq_lens_host = seq_lens_;
  m.block_indptr_host = indptr_;
  m.block_indices_host = indices_;
  m.slot_mapping_host = slots_;
  m.positions_host = positions_;
  return m;
}

StatusOr<DecodeGraphs::Entry*> DecodeGraphs::GetOrCapture(int32_t bucket) {
  auto it = graphs_.find(bucket);
  if (it != graphs_.end()) return &it->second;
  const AttentionMetadata meta = MetadataFor(bucket);
  const Tensor ids = View(layout_.tokens, bucket), rows = View(layout_.rows, bucket);
  // The eager run computes this step (and warms up lazy state: GEMM heuristics, kernel
  // attributes, allocator blocks); the capture then records the same work without running it.
  ASSIGN_OR_RETURN(Tensor eager, model_->Forward(ctx_, ids, meta, *cache_, &rows));
  // Every graph copies its logits into the one shared output buffer, so the graphs' own
  // buffers (capture pool) are temporaries that later captures may reuse.
  Tensor out = logits_.Slice(0, 0, bucket);
  Entry e;
  ASSIGN_OR_RETURN(e.graph, ops::CaptureGraph(ctx_, [&]() -> Status {
                     ASSIGN_OR_RETURN(Tensor l, model_->Forward(ctx_, ids, meta, *cache_, &rows));
                     return ops::Copy(ctx_, l, out);
                   }));
  LOG_DEBUG("captured a decode graph for batch size {}", bucket);
  // This step's logits come from the eager run.
  RETURN_IF_ERROR(ops::Copy(ctx_, eager, out));
  return &(graphs_[bucket] = std::move(e));
}

Status DecodeGraphs::CaptureAll() {
  for (int32_t bucket : buckets_) {
    if (graphs_.count(bucket)) continue;
    RETURN_IF_ERROR(Upload(bucket, {}, {}));
    RETURN_IF_ERROR(GetOrCapture(bucket).status());
  }
  return ops::Synchronize(ctx_);
}

StatusOr<Tensor> DecodeGraphs::Run(std::span<const int32_t> token_ids,
                                   std::span<const SeqStep> seqs, const Tensor* prev_ids) {
  const int32_t n = static_cast<int32_t>(seqs.size());
  const int32_t bucket = BucketFor(n);
  if (bucket == 0 || token_ids.size() != seqs.size())
    return InvalidArgumentError(fmt::format("DecodeGraphs: no graph for {} sequences", n));
  if (model_->activation_generation() != generation_) {
    graphs_.clear();  // their activation buffers were reallocated
    generation_ = model_->activation_generation();
  }
  RETURN_IF_ERROR(Upload(bucket, token_ids, seqs));
  if (prev_ids) {
    Tensor ids = View(layout_.tokens, bucket);
    RETURN_IF_ERROR(ops::FillPlaceholderIds(ctx_, ids, *prev_ids));
  }
  auto it = graphs_.find(bucket);
  if (it == graphs_.end()) {
    RETURN_IF_ERROR(GetOrCapture(bucket).status());
  } else {
    RETURN_IF_ERROR(it->second.graph->Replay(ctx_));
  }
  return logits_.Slice(0, 0, n);
}

}  // namespace pagellm

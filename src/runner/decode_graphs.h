// DecodeGraphs: CUDA graphs of the model's forward pass for pure-decode steps (vLLM's
// CUDAGraphRunner). A step of B sequences that each decode one token is padded to the next
// captured batch size (1, 2, 4, 8, 16, 24, 32, ... up to max_batch); its inputs are copied with
// one upload into persistent device buffers whose addresses the graph baked in, and the whole
// forward replays with one launch instead of hundreds of kernel launches and host-side checks.
// Padding rows decode token 0 at position 0 over block 0 and write no K/V (slot -1); their
// logits are never read. Attention is planned for contexts up to max_model_len at capture
// (AttentionMetadata::plan_max_seq_len), so one graph serves every later context length.
// Graphs are captured at startup (CaptureAll) or else on the first step of each size, each after
// one eager warm-up run. Batch sizes above 512 (vLLM's default capture limit) run eagerly.
// Thread-safety: one thread (the runner's).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "model/forward_batch.h"
#include "model/model.h"
#include "ops/exec_ctx.h"
#include "ops/graph.h"

namespace pagellm {

struct DecodeGraphsConfig {
  int32_t max_batch = 256;         // largest captured batch (--max-num-seqs)
  int32_t max_model_len = 0;       // longest context a replay may see
  int32_t block_size = 16;
  int64_t max_step_tokens = 8192;  // activations are reserved for this many tokens first
};

class DecodeGraphs {
 public:
  // REQUIRES: ctx has a stream from ops::Stream::Create; model->SupportsGraphCapture().
  static StatusOr<std::unique_ptr<DecodeGraphs>> Create(const ExecCtx& ctx, Model* model,
                                                        KVCache* cache,
                                                        const DecodeGraphsConfig& config);

  // The captured batch size a step of `num_seqs` pure-decode sequences would use (0: none).
  int32_t BucketFor(int32_t num_seqs) const;
  // Runs one pure-decode step (seqs[i] decodes token_ids[i]) and returns its logits
  // [seqs.size(), vocab] f32 on the device: a view into the graph's output, valid until the
  // next Run. REQUIRES: BucketFor(seqs.size()) > 0 and every seq has num_new_tokens == 1.
  // With prev_ids (async scheduling), negative token ids are placeholders filled on the device
  // from it (ops::FillPlaceholderIds) inside the graph's input buffer.
  StatusOr<Tensor> Run(std::span<const int32_t> token_ids, std::span<const SeqStep> seqs,
                       const Tensor* prev_ids = nullptr);

  // Captures every batch size now (startup), with padding-only steps that write no K/V.
  Status CaptureAll();

  int32_t num_graphs() const { return static_cast<int32_t>(graphs_.size()); }

 private:
  struct Entry {
    std::unique_ptr<ops::Graph> graph;  // ends by copying its logits into logits_
  };
  // Offsets (in int32 elements) of the persistent input arrays inside one device buffer.
  struct Layout {
    int64_t tokens, positions, slots, seq_lens, query_start, indptr, rows, indices, total;
  };

  DecodeGraphs(const ExecCtx& ctx, Model* model, KVCache* cache, const DecodeGraphsConfig& config);
  // Fills the staging arrays for `bucket` rows (padding after seqs) and uploads them.
  Status Upload(int32_t bucket, std::span<const int32_t> token_ids, std::span<const SeqStep> seqs);
  // Metadata whose device tensors are views of the persistent buffer (host arrays: staging).
  AttentionMetadata MetadataFor(int32_t bucket) const;
  StatusOr<Entry*> GetOrCapture(int32_t bucket);
  Tensor View(int64_t offset, int64_t n) const;

  ExecCtx ctx_;
  Model* model_;
  KVCache* cache_;
  DecodeGraphsConfig config_;
  std::vector<int32_t> buckets_;
  int32_t max_blocks_per_seq_ = 0;
  Layout layout_{};
  Tensor inputs_;  // int32 [layout_.total] on the device
  Tensor logits_;  // f32 [max_batch, vocab]: every graph's output rows
  // Host copies of the last upload, by array (what MetadataFor's *_host fields hold).
  std::vector<int32_t> tokens_, positions_, slots_, seq_lens_, query_start_, indptr_, indices_;
  std::map<int32_t, Entry> graphs_;
  uint64_t generation_ = 0;  // the model's activation generation the graphs were captured at
};

}  // namespace pagellm

// ModelRunner: executes one SchedulerOutput on a Model (vLLM V1's GPUModelRunner, any device).
// It mirrors the scheduler's per-request state (token ids, block tables) from the step diffs,
// plans the flat batch (token ids, positions, slot mapping, CSR block tables), runs the model
// once, and samples a token for every request whose context is then complete. With async
// scheduling (EnqueueStep / CollectStep) the next step is enqueued before this one's sampled
// ids are read; they stay on the device and feed the next step's inputs there.
// Thread-safety: one thread (the engine thread) drives it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/forward_batch.h"
#include "model/model.h"
#include "ops/graph.h"
#include "ops/readback.h"
#include "runner/decode_graphs.h"
#include "runner/device_sampler.h"
#include "sample/sampler.h"
#include "sched/scheduler_output.h"

namespace pagellm {

struct ModelRunnerConfig {
  int32_t num_blocks = 0;
  int32_t block_size = 16;
  uint64_t seed = 0;  // for requests without their own seed
  bool batch_invariant = false;
  // Where tokens are sampled. kAuto: on the device for CUDA models (DeviceSampler: only ids,
  // + logprobs, come back), the CPU Sampler for CPU models. kHost: always the CPU Sampler
  // (copies the logits to the host). kOp: DeviceSampler on any device (tests the device path
  // on CPU models). Steps DeviceSampler cannot take (prompt logprobs, logprobs above
  // kMaxDeviceTopLogprobs) always use the CPU Sampler.
  enum class SamplingPath { kAuto, kHost, kOp };
  SamplingPath sampling_path = SamplingPath::kAuto;
  // CUDA graphs for pure-decode steps of up to max_num_seqs sequences (runner/decode_graphs.h);
  // ignored where the device or the model cannot capture. --enforce-eager turns them off.
  bool cuda_graphs = false;
  int32_t max_num_seqs = 256;
  int32_t max_model_len = 0;
  int64_t max_num_batched_tokens = 8192;
  // Last, so that tests may fill the fields above positionally.
  // Tensor-parallel workers: run the forward pass but return no sampled tokens (rank 0 samples).
  bool skip_sampling = false;
};

class ModelRunner {
 public:
  // Allocates the KV cache (num_blocks of block_size tokens) on the model's device.
  static StatusOr<std::unique_ptr<ModelRunner>> Create(Model* model, const ModelRunnerConfig& config);

  // REQUIRES: scheduler outputs in the order the scheduler produced them.
  // REQUIRES: no step pending from EnqueueStep.
  StatusOr<ModelRunnerOutput> Execute(const SchedulerOutput& out);

  // Async scheduling (model_runner_async.cc): EnqueueStep applies the diff and enqueues the
  // forward pass and the device sampling without waiting. A token the host does not know yet
  // (the scheduler's placeholder: the request's newest token, sampled by the previous enqueued
  // step) is read on the device from that step's sampled ids. CollectStep waits for the oldest
  // pending step and returns its output. REQUIRES: device sampling that supports every sampling
  // request of the step (no prompt logprobs), steps collected in order.
  bool SupportsAsync() const { return device_sampler_ != nullptr && !config_.skip_sampling; }
  Status EnqueueStep(const SchedulerOutput& out);
  StatusOr<ModelRunnerOutput> CollectStep();
  int32_t num_pending_steps() const { return static_cast<int32_t>(pending_.size()); }
  // Forgets pending steps (after an engine error), waiting for the device first.
  void DiscardPendingSteps();
  ~ModelRunner();

  Model& model() { return *model_; }
  const KVCache& kv_cache() const { return cache_; }
  const DeviceSampler* device_sampler() const { return device_sampler_.get(); }  // or null
  int32_t num_tracked_requests() const { return static_cast<int32_t>(reqs_.size()); }
  int32_t num_cuda_graphs() const { return graphs_ ? graphs_->num_graphs() : 0; }

 private:
  struct ReqState {
    std::vector<int32_t> tokens;  // prompt + outputs the runner has been told of
    int32_t num_prompt_tokens = 0;
    std::vector<int32_t> block_table;
    int32_t num_computed = 0;
    SamplingParams params;
    std::optional<int32_t> eos_token_id;
    // Async scheduling: the step (step_serial_) that last sampled for it, and its row there.
    int64_t sampled_step = -1;
    int32_t sampled_row = -1;
  };
  // One request's rows in the flat batch.
  struct Planned {
    const std::string* id = nullptr;  // a key of the step's num_scheduled_tokens
    ReqState* state = nullptr;
    int32_t first_row = 0;
    int32_t num_tokens = 0;
    bool samples = false;          // its context is complete after this step
    int32_t first_logits_row = -1; // first of its rows in the logits matrix
    bool wants_prompt_logprobs = false;
    int32_t num_pending = 0;       // 1: its last row is a placeholder (async scheduling)
  };
  // An enqueued async step until CollectStep.
  struct PendingStep {
    std::vector<std::string> req_ids;
    std::vector<int32_t> sample_index;  // per request: its row in the sampled ids, or -1
    DeviceSampler::Pending sampled;     // device outputs (kept alive until collected)
    std::unique_ptr<ops::Readback> readback;  // null when nothing was sampled
  };

  using RowRef = std::pair<const std::string*, ReqState*>;  // a key of reqs_ and its state

  ModelRunner(Model* model, const ModelRunnerConfig& config, std::unique_ptr<ops::Stream> stream,
              KVCache cache);
  Status ApplyDiff(const SchedulerOutput& out);
  void EraseRequest(const std::string& id);
  ReqState* FindInOrder(const std::string& id, const std::vector<RowRef>& last, size_t& cursor,
                        std::vector<RowRef>& order);
  Status CopyBlocks(const std::vector<BlockCopy>& copies);
  Status WarmUp();
  // Logits [logits_rows.size(), vocab] f32 on the device for the planned step.
  // Negative token ids are placeholders resolved from prev_ids (ops::FillPlaceholderIds).
  StatusOr<Tensor> Forward(const std::vector<int32_t>& token_ids, const std::vector<SeqStep>& seqs,
                           const std::vector<int32_t>& logits_rows,
                           const Tensor* prev_ids = nullptr);
  Status Plan(const SchedulerOutput& out, std::vector<Planned>& plan, std::vector<int32_t>& token_ids,
              std::vector<SeqStep>& seqs, std::vector<int32_t>& logits_rows);
  ModelRunnerOutput SkipSampling(std::vector<Planned>& plan);
  void CollectPromptLogprobs(const Planned& p, std::span<const float> logits, int64_t vocab,
                             std::vector<TokenLogprobs>& out) const;
  // Sample the planned rows of `logits` (one row per sampling request, plus every row of a
  // request wanting prompt logprobs): on the device when DeviceSampler can, else on the host.
  bool CanSampleOnDevice(const std::vector<Planned>& plan) const;
  StatusOr<SamplerOutput> SampleOnDevice(const std::vector<Planned>& plan, const Tensor& logits);
  std::vector<DeviceSampler::Row> DeviceRows(const std::vector<Planned>& plan) const;
  // The request's row in the previous step's sampled ids when that step is still pending
  // (async), or -1.
  int32_t PlaceholderSource(const ReqState& s) const {
    return !pending_.empty() && s.sampled_step == step_serial_ - 1 ? s.sampled_row : -1;
  }
  StatusOr<std::unique_ptr<ops::Readback>> TakeReadback();
  StatusOr<SamplerOutput> SampleOnHost(const std::vector<Planned>& plan, const Tensor& logits,
                                       ModelRunnerOutput& result);

  Model* model_;
  ModelRunnerConfig config_;
  std::unique_ptr<ops::Stream> stream_;  // declared first of the device state: destroyed last
  ExecCtx ctx_;
  KVCache cache_;
  std::unique_ptr<DecodeGraphs> graphs_;  // null: every step runs eagerly
  Sampler sampler_;
  std::unique_ptr<DeviceSampler> device_sampler_;  // CUDA models with device_sampling
  std::unordered_map<std::string, ReqState> reqs_;
  // The last Plan's requests in row order and the last diff's cached requests in its order, as
  // (key in reqs_, state): elements of reqs_ keep their address until erased, and EraseRequest
  // drops them from here first.
  std::vector<RowRef> last_rows_, last_cached_;
  // Async scheduling: steps enqueued and not collected; the last enqueued step's sampled ids
  // on the device; steps run so far (Execute or EnqueueStep).
  std::deque<PendingStep> pending_;
  std::vector<std::unique_ptr<ops::Readback>> spare_readbacks_;
  Tensor prev_sampled_ids_;
  int64_t step_serial_ = 0;
};

}  // namespace pagellm

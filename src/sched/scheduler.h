// Scheduler: continuous batching under a token budget (vLLM V1's Scheduler).
//
// One engine step:  out = Schedule();  runner.Execute(out) → ModelRunnerOutput;
//                   outputs = Update(out, runner_output).
// REQUIRES: Update() for a step before the next Schedule(), unless async_scheduling: then
// Schedule() may run once more before the previous step's Update() (at most one step in
// flight). A request whose step is in flight counts its coming token as a placeholder
// (Request::num_output_placeholders): its next decode is scheduled and gets a KV slot, and
// Update() replaces the placeholder with the sampled token. Requests that finish in Update()
// while a later step already holds them are freed at once (later device work is stream-ordered
// after that step); that step's token for them is dropped, as is an in-flight token of a
// request preempted meanwhile (it recomputes the same token after resuming).
// Schedule() serves running requests first (decodes and ongoing chunked prefills), then waiting
// ones; prefill chunks and decodes share one step. When the KV pool runs out it preempts the
// newest running request (FCFS: the last admitted; priority: the largest (priority, arrival))
// by recompute: its blocks are freed and it returns to the front of the waiting queue.
//
// Parallel sampling (n > 1): AddRequest() makes n child requests "{i}_{id}" (seed + i when a
// seed is given, as vLLM does), so each child produces exactly what running it alone would.
// Only child 0 prefills; in the step where its prompt is fully scheduled the other children
// fork its block table (all prompt blocks shared by ref count, also with prefix caching off)
// and start running with num_computed_tokens = prompt_len - 1: they recompute the last prompt
// token to get their own first logits. Writing that token into the shared last block triggers
// copy-on-write (SchedulerOutput::block_copies). Abort the user's id to abort all children.
//
// Stop strings need text: the engine detokenizes EngineCoreOutputs and calls
// FinishRequest(id, FinishReason::kStop, "the stop string") when one matches.
// Thread-safety: not thread-safe; one engine thread drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "kv/kv_cache_manager.h"
#include "sched/request.h"
#include "sched/request_queue.h"
#include "sched/scheduler_output.h"

namespace pagellm {

struct SchedulerConfig {
  int32_t max_num_batched_tokens = 8192;
  int32_t max_num_seqs = 256;
  int32_t max_model_len = 8192;
  int32_t long_prefill_token_threshold = 0;  // 0 = off: prefill chunks limited by budget only
  bool enable_chunked_prefill = true;
  SchedulingPolicy policy = SchedulingPolicy::kFcfs;
  bool async_scheduling = false;  // see the REQUIRES above

  Status Validate() const;
};

struct CacheConfig {
  int32_t block_size = kDefaultBlockSize;
  int32_t num_gpu_blocks = 0;  // from ComputeKVCacheSizing()
  bool enable_prefix_caching = true;
};

class Scheduler {
 public:
  static StatusOr<std::unique_ptr<Scheduler>> Create(const SchedulerConfig& config,
                                                     const CacheConfig& cache_config);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request (n > 1: its children), finalizing its SamplingParams. Errors: duplicate id,
  // empty or too long prompt, invalid params, or a request that could not fit in the whole KV
  // pool.
  Status AddRequest(EngineCoreRequest request);

  SchedulerOutput Schedule();

  // Appends sampled tokens, applies stop conditions (max_tokens, EOS unless ignore_eos,
  // stop_token_ids — both held back until min_tokens —, max_model_len), frees finished
  // requests' blocks. Returns one output per request that got tokens or finished.
  std::vector<EngineCoreOutput> Update(const SchedulerOutput& scheduler_output,
                                       const ModelRunnerOutput& runner_output);

  // Aborts requests wherever they are (waiting, running, awaiting fork); a parent id of an
  // n > 1 request aborts all its children. Unknown ids are ignored. Produces no
  // EngineCoreOutput (the caller knows); the ids reach the runner in finished_req_ids.
  void AbortRequests(std::span<const std::string> request_ids);
  // Finishes a request from outside (stop strings). NotFound for unknown or finished ids.
  Status FinishRequest(const std::string& request_id, FinishReason reason,
                       StopReason stop_reason = {});

  // Beam search support (the engine drives sample/beam_search.h): between steps, makes
  // new_request_id a running copy of running request src_request_id — same tokens, sharing
  // every KV block by ref count (the partly filled last block is copied on first write).
  // FailedPrecondition unless src is running with only its last sampled token uncomputed.
  Status ForkRequest(const std::string& src_request_id, const std::string& new_request_id);
  // Replaces the last output token (not yet computed) of a running request: a beam continues
  // with the candidate beam search chose instead of the sampled one.
  Status ReplaceLastOutputToken(const std::string& request_id, int32_t token);

  // Counters for metrics / logging.
  struct Stats {
    int32_t num_running = 0, num_waiting = 0;
    double kv_cache_usage = 0.0;  // fraction of blocks in use
    int64_t prefix_cache_queries = 0, prefix_cache_hits = 0;  // tokens
    int64_t num_preemptions = 0;
  };
  Stats GetStats() const;

  int32_t num_running() const { return static_cast<int32_t>(running_.size()); }
  // Running requests in scheduling order (metrics, tests).
  std::span<Request* const> running() const { return running_; }
  int32_t num_waiting() const;  // includes children awaiting their fork
  int32_t GetNumUnfinishedRequests() const { return static_cast<int32_t>(requests_.size()); }
  bool HasUnfinishedRequests() const { return !requests_.empty(); }
  int64_t num_preemptions() const { return num_preemptions_; }
  const Request* GetRequest(const std::string& request_id) const;
  const KVCacheManager& kv_cache_manager() const { return *kv_; }
  const SchedulerConfig& config() const { return config_; }
  // Evicts every cached prefix; false while requests hold blocks.
  bool ResetPrefixCache() { return kv_->ResetPrefixCache(); }

 private:
  struct Step;  // bookkeeping of one Schedule() call (scheduler.cc)

  Scheduler(const SchedulerConfig& config, const CacheConfig& cache_config);

  Status ValidateRequest(const EngineCoreRequest& r) const;
  Request* NewRequest(const EngineCoreRequest& r, int child_index, int num_children);
  void ScheduleRunning(Step& step);
  void ScheduleWaiting(Step& step);
  SchedulerOutput BuildOutput(Step& step);
  void FillNumScheduledTokens(const Step& step, SchedulerOutput& out);
  // running_ changes only through these, which keep running_by_id_ in step.
  void AddRunning(Request* r);
  void EraseRunning(std::vector<Request*>::iterator it);
  void EraseFinishedFromRunning();
  void ForkChildren(Request* first);
  int32_t NumNewTokens(const Request& r, int32_t num_computed, int32_t budget) const;
  Request* PickVictim() const;
  void Preempt(Request* r, Step& step);
  bool CheckStop(Request* r) const;  // sets r->status / stop_reason when it stops
  void FinishAndFree(Request* r, RequestStatus status);
  // The request with this id, trying the last Schedule()'s index-th request first (null: gone).
  Request* FindScheduled(size_t index, const std::string& id) const;
  // FinishAndFree's second half. REQUIRES: r finished and in no queue (running_, waiting_).
  void ReleaseFinished(Request* r);
  void PromoteForkChildren(Request* first);

  SchedulerConfig config_;
  CacheConfig cache_config_;
  std::unique_ptr<KVCacheManager> kv_;
  std::unordered_map<std::string, std::unique_ptr<Request>> requests_;
  std::unordered_map<std::string, std::vector<std::string>> parent_to_children_;
  // Child 0 id → the other children, until child 0's prompt is scheduled and they fork.
  std::unordered_map<std::string, std::vector<Request*>> awaiting_fork_;
  RequestQueue waiting_;
  std::vector<Request*> running_;
  std::vector<Request*> running_by_id_;  // running_ sorted by request_id (the runner's row order)
  // The last Schedule()'s requests in num_scheduled_tokens order: Update() finds the runner's
  // outputs here without hashing their ids. Cleared whenever a request is freed.
  std::vector<Request*> last_scheduled_;
  std::vector<std::string> finished_req_ids_;  // since the last Schedule()
  int64_t next_arrival_seq_ = 0;
  int64_t num_preemptions_ = 0;
};

}  // namespace pagellm

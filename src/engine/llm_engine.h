// LLMEngine: the synchronous engine (vLLM's LLMEngine + EngineCore in one process):
// Step() = Scheduler::Schedule → ModelRunner::Execute → Scheduler::Update → OutputProcessor.
// Built by Create() from EngineArgs: resolves the model (local dir or hub id), loads the
// tokenizer, generation config and model, sizes the KV cache, and logs what it chose.
// Thread-safety: not thread-safe; AsyncEngine wraps it for concurrent callers.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <unordered_set>
#include <string>
#include <variant>
#include <vector>

#include "engine/engine_args.h"
#include "engine/output_processor.h"
#include "engine/request_output.h"
#include "model/config.h"
#include "model/model.h"
#include "runner/model_runner.h"
#include "sched/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace pagellm {

class TpLeader;

// A prompt: text (tokenized by the engine) or token ids.
struct PromptInput {
  std::optional<std::string> text;
  std::vector<int32_t> token_ids;  // used when text is unset
  static PromptInput Text(std::string t) { return PromptInput{std::move(t), {}}; }
  static PromptInput Ids(std::vector<int32_t> ids) { return PromptInput{std::nullopt, std::move(ids)}; }
};

struct EngineStats {
  int32_t num_running = 0;
  int32_t num_waiting = 0;
  double kv_cache_usage = 0.0;  // fraction of blocks in use
  int64_t prefix_cache_queries = 0;
  int64_t prefix_cache_hits = 0;
  int64_t num_preemptions = 0;
  int64_t prompt_tokens = 0;      // counters since start
  int64_t generation_tokens = 0;
  int32_t num_free_blocks = 0;
  int32_t num_total_blocks = 0;
};

class LLMEngine {
 public:
  static StatusOr<std::unique_ptr<LLMEngine>> Create(const EngineArgs& args);
  ~LLMEngine();

  // Validates and queues a request. Errors name the problem (bad params, prompt too long,
  // text prompt without a tokenizer, duplicate id).
  Status AddRequest(const std::string& request_id, const PromptInput& prompt, SamplingParams params,
                    int priority = 0);
  // One engine step; returns the outputs the step produced (per output_kind).
  StatusOr<std::vector<RequestOutput>> Step();
  // Aborts requests (user ids); returns their final outputs (finish_reason "abort").
  std::vector<RequestOutput> AbortRequests(const std::vector<std::string>& request_ids);
  // Fails every unfinished request with `error` (after an engine error) and returns their outputs.
  std::vector<RequestOutput> FailAll(const std::string& error);

  bool HasUnfinishedRequests() const;
  // OK, or why the engine can no longer run steps (a tensor-parallel rank died or hangs).
  // Thread-safe.
  Status CheckHealth() const;
  EngineStats GetStats() const;

  const tokenizer::Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const ModelConfig& model_config() const { return model_->config(); }
  const GenerationConfig& generation_config() const { return generation_config_; }
  const EngineArgs& args() const { return args_; }
  int64_t max_model_len() const { return max_model_len_; }
  int64_t vocab_size() const { return model_->vocab_size(); }
  std::optional<int32_t> eos_token_id() const { return eos_token_id_; }
  const std::string& model_path() const { return model_path_; }
  // Steps enqueued before the previous step's tokens were read (--async-scheduling).
  int64_t num_async_steps() const { return num_async_steps_; }
  // Sampling defaults from generation_config.json applied to a request's unset fields (vLLM's
  // get_diff_sampling_param): temperature, top_p, top_k, min_p, repetition_penalty.
  void ApplyGenerationDefaults(SamplingParams& params) const;

 private:
  LLMEngine() = default;
  Status Init(const EngineArgs& args);
  Status InitKVCache();
  StatusOr<std::vector<int32_t>> Tokenize(const PromptInput& prompt, SamplingParams& params) const;
  // Update + output processing of one executed step (both modes).
  StatusOr<std::vector<RequestOutput>> FinishStep(const SchedulerOutput& sched,
                                                  ModelRunnerOutput& run);
  // Async scheduling (llm_engine_async.cc).
  StatusOr<std::vector<RequestOutput>> AsyncStep();
  StatusOr<std::vector<RequestOutput>> FinishOldestInFlight();
  // Finishes every in-flight step; their outputs wait in drained_outputs_ for the next Step.
  Status DrainInFlight();
  // Whether a request's id is part of an in-flight step (its id cannot be reused before).
  bool InFlight(const std::string& request_id, int n) const;
  void TrackSyncRequest(const std::string& request_id, const SamplingParams& params);
  void ResetAsyncState();

  // Declared first so that it goes last: workers are told to exit after the model is gone.
  std::unique_ptr<TpLeader> tp_;  // null with tensor_parallel_size 1
  EngineArgs args_;
  std::string model_path_;
  GenerationConfig generation_config_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<ModelRunner> runner_;
  std::unique_ptr<OutputProcessor> output_processor_;
  std::optional<int32_t> eos_token_id_;
  std::vector<int64_t> extra_eos_ids_;  // every EOS id (the primary one is skipped when added)
  int64_t max_model_len_ = 0;
  int32_t num_blocks_ = 0;
  int64_t prompt_tokens_ = 0;
  int64_t generation_tokens_ = 0;
  // Async scheduling: on when asked for and possible (no tensor parallelism, device sampling).
  bool async_ = false;
  int64_t num_async_steps_ = 0;
  std::deque<SchedulerOutput> in_flight_;         // enqueued, not yet updated (oldest first)
  std::vector<RequestOutput> drained_outputs_;    // finished outside Step (returned by it)
  std::unordered_set<std::string> sync_requests_; // need every token on the host: sync steps
};

}  // namespace pagellm

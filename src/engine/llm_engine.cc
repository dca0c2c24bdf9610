#include "engine/llm_engine.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "base/file.h"
#include "base/logging.h"
#include "base/phase_timer.h"
#include "engine/engine_setup.h"
#include "engine/step_outputs.h"
#include "engine/tp_leader.h"
#include "ops/op_profile.h"
#include "sample/stop_checker.h"

namespace pagellm {

LLMEngine::~LLMEngine() {
  PhaseTimer::Get().Report();
  ops::ReportOpProfile();
}

StatusOr<std::unique_ptr<LLMEngine>> LLMEngine::Create(const EngineArgs& args) {
  std::unique_ptr<LLMEngine> engine(new LLMEngine());
  RETURN_IF_ERROR(engine->Init(args));
  return engine;
}

Status LLMEngine::Init(const EngineArgs& args) {
  args_ = args;
  ASSIGN_OR_RETURN(Device device, ResolveDevice(args.device));
  ASSIGN_OR_RETURN(model_path_, ResolveModelDir(args.model, args.revision, args.load_format));
  if (!args.skip_tokenizer_init) {
    std::string tok_dir = model_path_;
    if (args.tokenizer && *args.tokenizer != args.model) {
      ASSIGN_OR_RETURN(tok_dir, ResolveModelDir(*args.tokenizer, args.revision, "dummy"));
    }
    auto tok = tokenizer::Tokenizer::Load(tok_dir);
    if (!tok.ok()) return tok.status().WithContext("loading the tokenizer from " + tok_dir);
    tokenizer_ = std::move(tok).value();
  }
  ASSIGN_OR_RETURN(generation_config_, LoadGenerationDefaults(args.generation_config, model_path_));
  if (args.tensor_parallel_size > 1) {
    ASSIGN_OR_RETURN(tp_, TpLeader::Create(args));
    device = tp_->device();
  }

  LoadOptions lo;
  lo.model_dir = model_path_;
  ASSIGN_OR_RETURN(lo.load_format, ParseLoadFormat(args.load_format));
  lo.dtype = args.dtype;
  lo.device = device;
  lo.seed = args.seed;
  if (tp_) lo.comm = tp_->comm();
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(model_, LoadModel(lo));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  LOG_INFO("Loaded {} ({}, {}) on {} in {:.2f} s", model_path_,
           model_->config().architectures.empty() ? "?" : model_->config().architectures[0],
           DTypeName(model_->dtype()), device.ToString(), secs);

  ASSIGN_OR_RETURN(max_model_len_, ResolveMaxModelLen(args.max_model_len, *model_));
  std::vector<int64_t> eos = ResolveEosIds(model_->config(), generation_config_, tokenizer_.get());
  if (!eos.empty()) eos_token_id_ = static_cast<int32_t>(eos[0]);
  extra_eos_ids_ = eos;
  RETURN_IF_ERROR(InitKVCache());
  output_processor_ = std::make_unique<OutputProcessor>(tokenizer_.get());
  return OkStatus();
}

Status LLMEngine::InitKVCache() {
  KVCacheSpec spec = model_->kv_cache_spec();
  ASSIGN_OR_RETURN(int64_t bytes, KVCacheBudgetBytes(args_, *model_));
  ASSIGN_OR_RETURN(num_blocks_, NumKVBlocks(bytes, spec, args_, max_model_len_));
  if (tp_) {
    ASSIGN_OR_RETURN(num_blocks_, tp_->AgreeAfterLoad(num_blocks_));
  }
  SchedulerConfig sc;
  sc.max_num_seqs = args_.max_num_seqs;
  sc.max_model_len = static_cast<int32_t>(max_model_len_);
  sc.max_num_batched_tokens = ResolveMaxNumBatchedTokens(args_, max_model_len_);
  sc.enable_chunked_prefill = args_.enable_chunked_prefill;
  sc.async_scheduling = args_.async_scheduling && !tp_;
  if (args_.scheduling_policy == "priority") {
    sc.policy = SchedulingPolicy::kPriority;
  } else if (args_.scheduling_policy != "fcfs") {
    return InvalidArgumentError("--scheduling-policy must be fcfs or priority, got " +
                                args_.scheduling_policy);
  }
  CacheConfig cc;
  cc.block_size = args_.block_size;
  cc.num_gpu_blocks = num_blocks_;
  cc.enable_prefix_caching = args_.enable_prefix_caching;
  ASSIGN_OR_RETURN(scheduler_, Scheduler::Create(sc, cc));
  ASSIGN_OR_RETURN(runner_, ModelRunner::Create(model_.get(),
                                                MakeRunnerConfig(args_, num_blocks_, max_model_len_)));
  async_ = sc.async_scheduling && runner_->SupportsAsync();
  if (args_.async_scheduling && !async_)
    LOG_WARN("--async-scheduling needs device sampling and tensor_parallel_size 1: "
             "steps run synchronously");
  else if (async_)
    LOG_INFO("async scheduling: step N+1 is enqueued before step N's tokens are read");
  return OkStatus();
}

void LLMEngine::ApplyGenerationDefaults(SamplingParams& p) const {
  const GenerationConfig& g = generation_config_;
  if (g.temperature) p.temperature = *g.temperature;
  if (g.top_p) p.top_p = *g.top_p;
  if (g.top_k) p.top_k = static_cast<int>(*g.top_k);
  if (g.min_p) p.min_p = *g.min_p;
  if (g.repetition_penalty) p.repetition_penalty = *g.repetition_penalty;
}

StatusOr<std::vector<int32_t>> LLMEngine::Tokenize(const PromptInput& prompt,
                                                   SamplingParams& params) const {
  std::vector<int32_t> ids = prompt.token_ids;
  if (prompt.text) {
    if (!tokenizer_) {
      return InvalidArgumentError(
          "text prompts need a tokenizer, but the engine runs with --skip-tokenizer-init: "
          "send prompt token ids");
    }
    ASSIGN_OR_RETURN(ids, tokenizer_->Encode(*prompt.text, /*add_special_tokens=*/true));
  }
  ids = TruncatePrompt(ids, params, static_cast<int32_t>(max_model_len_));
  if (!params.bad_words.empty()) {
    if (!tokenizer_) return InvalidArgumentError("bad_words need a tokenizer");
    ASSIGN_OR_RETURN(params.bad_words_token_ids, TokenizeBadWords(*tokenizer_, params.bad_words));
  }
  return ids;
}

Status LLMEngine::AddRequest(const std::string& request_id, const PromptInput& prompt,
                             SamplingParams params, int priority) {
  if (output_processor_->Has(request_id)) {
    return AlreadyExistsError("request id '" + request_id + "' is already in use");
  }
  RETURN_IF_ERROR(params.Finalize());
  if (!params.stop.empty() && !tokenizer_) {
    return InvalidArgumentError("stop strings need a tokenizer (the engine runs with --skip-tokenizer-init)");
  }
  ASSIGN_OR_RETURN(std::vector<int32_t> ids, Tokenize(prompt, params));
  if (ids.empty()) return InvalidArgumentError("the prompt is empty");
  RETURN_IF_ERROR(ValidatePromptIds(ids, vocab_size(), max_model_len_));
  RETURN_IF_ERROR(params.VerifyTokenIds(vocab_size()));
  RETURN_IF_ERROR(params.VerifyLogprobs(args_.max_logprobs, vocab_size()));
  AddGenerationConfigEos(params, extra_eos_ids_, eos_token_id_);
  EngineCoreRequest req;
  req.request_id = request_id;
  req.prompt_token_ids = ids;
  req.sampling_params = params;
  req.eos_token_id = eos_token_id_;
  req.priority = priority;
  req.arrival_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // A finished request's id may still be part of an in-flight step: finish that step first.
  if (async_ && InFlight(request_id, params.n)) RETURN_IF_ERROR(DrainInFlight());
  RETURN_IF_ERROR(scheduler_->AddRequest(std::move(req)));
  if (async_) TrackSyncRequest(request_id, params);
  prompt_tokens_ += static_cast<int64_t>(ids.size());
  output_processor_->AddRequest(request_id, prompt.text, std::move(ids), params);
  return OkStatus();
}

StatusOr<std::vector<RequestOutput>> LLMEngine::Step() {
  if (async_) return AsyncStep();
  if (!scheduler_->HasUnfinishedRequests()) return std::vector<RequestOutput>{};
  SchedulerOutput sched;
  {
    ScopedPhase phase("engine.schedule");
    sched = scheduler_->Schedule();
  }
  std::optional<ScopedPhase> execute_phase(std::in_place, "engine.execute");
  ASSIGN_OR_RETURN(ModelRunnerOutput run,
                   tp_ ? tp_->Execute(*runner_, sched) : runner_->Execute(sched));
  execute_phase.reset();
  ASSIGN_OR_RETURN(std::vector<RequestOutput> outputs, FinishStep(sched, run));
  PhaseTimer::Get().EndStep();
  return outputs;
}

StatusOr<std::vector<RequestOutput>> LLMEngine::FinishStep(const SchedulerOutput& sched,
                                                           ModelRunnerOutput& run) {
  std::optional<ScopedPhase> phase(std::in_place, "engine.update+output");
  OutputProcessor::Result result =
      ProcessStepOutputs(*scheduler_, *output_processor_, sched, run, generation_tokens_);
  if (!sync_requests_.empty())
    for (const RequestOutput& o : result.outputs)
      if (o.finished) sync_requests_.erase(o.request_id);
  return std::move(result.outputs);
}

std::vector<RequestOutput> LLMEngine::AbortRequests(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) sync_requests_.erase(id);
  // Outputs an in-flight step left for the next Step() must not follow the abort's final one.
  std::erase_if(drained_outputs_, [&ids](const RequestOutput& o) {
    return std::find(ids.begin(), ids.end(), o.request_id) != ids.end();
  });
  scheduler_->AbortRequests(ids);
  return output_processor_->Abort(ids);
}

std::vector<RequestOutput> LLMEngine::FailAll(const std::string& error) {
  ResetAsyncState();
  std::vector<std::string> ids = output_processor_->RequestIds();
  scheduler_->AbortRequests(ids);
  return output_processor_->Abort(ids, error);
}

Status LLMEngine::CheckHealth() const { return tp_ ? tp_->health() : OkStatus(); }

bool LLMEngine::HasUnfinishedRequests() const {
  return scheduler_->HasUnfinishedRequests() || output_processor_->num_requests() > 0 ||
         !in_flight_.empty() || !drained_outputs_.empty();
}

EngineStats LLMEngine::GetStats() const {
  EngineStats s;
  s.num_running = scheduler_->num_running();
  s.num_waiting = scheduler_->num_waiting();
  const KVCacheManager& kv = scheduler_->kv_cache_manager();
  s.num_total_blocks = num_blocks_;
  s.num_free_blocks = kv.num_free_blocks();
  s.kv_cache_usage = num_blocks_ ? 1.0 - static_cast<double>(s.num_free_blocks) / num_blocks_ : 0.0;
  s.prefix_cache_queries = kv.prefix_cache_queries();
  s.prefix_cache_hits = kv.prefix_cache_hits();
  s.num_preemptions = scheduler_->num_preemptions();
  s.prompt_tokens = prompt_tokens_;
  s.generation_tokens = generation_tokens_;
  return s;
}

}  // namespace pagellm

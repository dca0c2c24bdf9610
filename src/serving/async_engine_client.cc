#include "serving/async_engine_client.h"

#include <algorithm>
#include <chrono>

#include "engine/engine_setup.h"

namespace pagellm {

AsyncEngineClient::AsyncEngineClient(std::unique_ptr<AsyncEngine> engine,
                                     std::unique_ptr<ChatRenderer> chat, server::ModelInfo info)
    : engine_(std::move(engine)), beam_(std::make_unique<BeamSearchJobs>(engine_.get())),
      chat_(std::move(chat)), info_(std::move(info)) {}

AsyncEngineClient::~AsyncEngineClient() {
  beam_.reset();  // its searches submit to the engine until they stop
  engine_->Shutdown();
}

bool AsyncEngineClient::HasTokenizer() const { return engine_->engine().tokenizer() != nullptr; }

StatusOr<std::vector<int32_t>> AsyncEngineClient::Encode(const std::string& text,
                                                         bool add_special_tokens) const {
  const tokenizer::Tokenizer* tok = engine_->engine().tokenizer();
  if (!tok) return FailedPreconditionError("the server runs with --skip-tokenizer-init: send token ids");
  return tok->Encode(text, add_special_tokens);
}

StatusOr<std::string> AsyncEngineClient::Decode(const std::vector<int32_t>& ids,
                                                bool skip_special_tokens) const {
  const tokenizer::Tokenizer* tok = engine_->engine().tokenizer();
  if (!tok) return FailedPreconditionError("the server runs with --skip-tokenizer-init: no tokenizer");
  return tok->Decode(ids, skip_special_tokens);
}

StatusOr<std::string> AsyncEngineClient::ApplyChatTemplate(
    const server::ChatTemplateRequest& r) const {
  if (!chat_) return FailedPreconditionError("chat needs a tokenizer (--skip-tokenizer-init is set)");
  ChatOptions o;
  o.add_generation_prompt = r.add_generation_prompt;
  o.continue_final_message = r.continue_final_message;
  o.tools = nlohmann::ordered_json::parse(r.tools.dump());
  o.chat_template_kwargs = nlohmann::ordered_json::parse(r.chat_template_kwargs.dump());
  // tool_choice reaches the template as a variable too (templates that know it use it).
  if (!r.tool_choice.is_null() && !o.chat_template_kwargs.contains("tool_choice")) {
    o.chat_template_kwargs["tool_choice"] = nlohmann::ordered_json::parse(r.tool_choice.dump());
  }
  o.chat_template = r.chat_template;
  return chat_->Render(nlohmann::ordered_json::parse(r.messages.dump()), o);
}

SamplingParams ToSamplingParams(const server::RequestSampling& s) {
  SamplingParams p;
  p.n = s.n;
  p.best_of = s.best_of;
  p.temperature = s.temperature;
  p.top_p = s.top_p;
  p.top_k = s.top_k;
  p.min_p = s.min_p;
  p.presence_penalty = s.presence_penalty;
  p.frequency_penalty = s.frequency_penalty;
  p.repetition_penalty = s.repetition_penalty;
  p.seed = s.seed;
  p.max_tokens = s.max_tokens;
  p.min_tokens = s.min_tokens;
  p.stop = s.stop;
  p.stop_token_ids = s.stop_token_ids;
  p.include_stop_str_in_output = s.include_stop_str_in_output;
  p.ignore_eos = s.ignore_eos;
  p.logprobs = s.logprobs;
  p.prompt_logprobs = s.prompt_logprobs;
  p.skip_special_tokens = s.skip_special_tokens;
  p.spaces_between_special_tokens = s.spaces_between_special_tokens;
  for (const auto& [id, bias] : s.logit_bias) p.logit_bias[id] = bias;
  if (!s.allowed_token_ids.empty()) p.allowed_token_ids = s.allowed_token_ids;
  p.bad_words = s.bad_words;
  p.detokenize = s.detokenize;
  p.output_kind = RequestOutputKind::kDelta;
  return p;
}

std::string AsyncEngineClient::TokenText(int32_t id) const {
  const tokenizer::Tokenizer* tok = engine_->engine().tokenizer();
  if (!tok) return "";
  return tok->Decode(std::vector<int32_t>{id}, false);
}

server::TokenLogprob AsyncEngineClient::ToLogprob(const TokenLogprobs& lp) const {
  server::TokenLogprob t;
  if (lp.token_ids.empty()) return t;
  t.token_id = lp.token_ids[0];
  t.logprob = lp.logprobs[0];
  t.token = TokenText(t.token_id);
  for (size_t i = 1; i < lp.token_ids.size(); ++i) {
    t.top.push_back({lp.token_ids[i], lp.logprobs[i], TokenText(lp.token_ids[i])});
  }
  return t;
}

server::RequestOutputDelta AsyncEngineClient::ToDelta(const RequestOutput& out,
                                                      bool want_lp) const {
  server::RequestOutputDelta d;
  d.request_id = out.request_id;
  d.num_prompt_tokens = static_cast<int>(out.prompt_token_ids.size());
  d.num_cached_tokens = out.num_cached_tokens;
  d.finished = out.finished;
  // A request failed by a broken engine (a dead tensor-parallel rank) is a 503, not a 400.
  if (out.error) {
    d.error = engine_->healthy() ? InvalidArgumentError(*out.error) : UnavailableError(*out.error);
  }
  if (out.prompt_logprobs) {
    std::vector<std::optional<server::TokenLogprob>> plp;
    for (const auto& e : *out.prompt_logprobs) {
      plp.push_back(e ? std::optional<server::TokenLogprob>(ToLogprob(*e)) : std::nullopt);
    }
    d.prompt_logprobs = std::move(plp);
  }
  for (const CompletionOutput& c : out.outputs) {
    server::ChoiceDelta cd;
    cd.index = c.index;
    cd.token_ids = c.token_ids;
    cd.text = c.text;
    if (want_lp && c.logprobs) {
      for (const TokenLogprobs& lp : *c.logprobs) cd.logprobs.push_back(ToLogprob(lp));
    }
    cd.finish_reason = c.finish_reason;
    if (const auto* s = std::get_if<std::string>(&c.stop_reason)) cd.stop_str = *s;
    if (const auto* t = std::get_if<int32_t>(&c.stop_reason)) cd.stop_token_id = *t;
    d.choices.push_back(std::move(cd));
  }
  return d;
}

// The engine's own request checks, run before anything is streamed so that a bad request gets
// a plain 400 (as vLLM validates SamplingParams before it answers) instead of an error event.
Status AsyncEngineClient::Precheck(const std::vector<int32_t>& ids,
                                   const SamplingParams& params) const {
  const LLMEngine& e = engine_->engine();
  SamplingParams p = params;
  RETURN_IF_ERROR(p.Finalize());
  RETURN_IF_ERROR(ValidatePromptIds(ids, e.vocab_size(), e.max_model_len()));
  RETURN_IF_ERROR(p.VerifyTokenIds(e.vocab_size()));
  return p.VerifyLogprobs(e.args().max_logprobs, e.vocab_size());
}

Status AsyncEngineClient::Generate(server::GenerateRequest request, server::OutputCallback on_output) {
  if (!engine_->healthy()) return UnavailableError("the engine is unhealthy: " + engine_->last_error());
  if (request.priority != 0 && engine_->engine().args().scheduling_policy != "priority") {
    // vLLM's message: a priority means nothing under first-come-first-served.
    return InvalidArgumentError("Got priority " + std::to_string(request.priority) +
                                " but Priority scheduling is not enabled.");
  }
  if (request.sampling.use_beam_search) {
    return beam_->Start(std::move(request), std::move(on_output));
  }
  SamplingParams params = ToSamplingParams(request.sampling);
  RETURN_IF_ERROR(Precheck(request.prompt_token_ids, params));
  bool want_lp = params.logprobs.has_value();
  engine_->Submit(request.request_id, PromptInput::Ids(std::move(request.prompt_token_ids)), params,
                  request.priority,
                  [this, cb = std::move(on_output), want_lp](const RequestOutput& out) {
                    cb(ToDelta(out, want_lp));
                  });
  return OkStatus();
}

void AsyncEngineClient::Abort(const std::string& request_id) {
  if (!beam_->Abort(request_id)) engine_->Abort(request_id);
}

server::EngineMetrics AsyncEngineClient::GetMetrics() const {
  EngineStats s = engine_->GetStats();
  server::EngineMetrics m;
  m.num_requests_running = s.num_running;
  m.num_requests_waiting = s.num_waiting;
  m.kv_cache_usage = s.kv_cache_usage;
  m.prefix_cache_queries = s.prefix_cache_queries;
  m.prefix_cache_hits = s.prefix_cache_hits;
  m.num_preemptions = s.num_preemptions;
  return m;
}

Status AsyncEngineClient::CheckHealth() const {
  if (!engine_->healthy()) return UnavailableError("engine unhealthy: " + engine_->last_error());
  return OkStatus();
}

EngineArgs EngineArgsFromServerArgs(const server::ServerArgs& a) {
  EngineArgs e;
  e.model = a.model;
  if (!a.tokenizer.empty()) e.tokenizer = a.tokenizer;
  if (!a.revision.empty()) e.revision = a.revision;
  e.dtype = a.dtype;
  e.device = a.device;
  e.load_format = a.load_format;
  if (a.max_model_len > 0) e.max_model_len = a.max_model_len;
  e.block_size = a.block_size;
  e.gpu_memory_utilization = a.gpu_memory_utilization;
  if (a.kv_cache_memory > 0) e.kv_cache_memory = a.kv_cache_memory;
  if (a.num_gpu_blocks_override > 0) e.num_gpu_blocks_override = a.num_gpu_blocks_override;
  e.max_num_seqs = a.max_num_seqs;
  if (a.max_num_batched_tokens > 0) e.max_num_batched_tokens = a.max_num_batched_tokens;
  e.enable_prefix_caching = a.enable_prefix_caching;
  e.seed = static_cast<uint64_t>(a.seed);
  e.skip_tokenizer_init = a.skip_tokenizer_init;
  e.generation_config = a.generation_config;
  e.tensor_parallel_size = a.tensor_parallel_size;
  e.max_logprobs = a.max_logprobs;
  e.enforce_eager = a.enforce_eager;
  e.async_scheduling = a.async_scheduling;
  e.scheduling_policy = a.scheduling_policy;
  e.batch_invariant = a.batch_invariant;
  if (!a.chat_template.empty()) e.chat_template = a.chat_template;
  return e;
}

StatusOr<std::unique_ptr<AsyncEngineClient>> CreateServingEngine(const server::ServerArgs& args) {
  EngineArgs ea = EngineArgsFromServerArgs(args);
  ASSIGN_OR_RETURN(std::unique_ptr<AsyncEngine> engine, AsyncEngine::Create(ea));
  std::unique_ptr<ChatRenderer> chat;
  if (const tokenizer::Tokenizer* tok = engine->engine().tokenizer()) {
    ASSIGN_OR_RETURN(chat, ChatRenderer::Create(*tok, ea.chat_template));
  }
  server::ModelInfo info;
  info.served_model_names = args.ServedModelNames();
  info.root = args.model;
  info.max_model_len = static_cast<int>(engine->engine().max_model_len());
  info.max_logprobs = args.max_logprobs;
  const GenerationConfig& g = engine->engine().generation_config();
  if (g.temperature) info.default_sampling["temperature"] = *g.temperature;
  if (g.top_p) info.default_sampling["top_p"] = *g.top_p;
  if (g.top_k) info.default_sampling["top_k"] = *g.top_k;
  if (g.min_p) info.default_sampling["min_p"] = *g.min_p;
  if (g.repetition_penalty) info.default_sampling["repetition_penalty"] = *g.repetition_penalty;
  if (g.max_new_tokens && *g.max_new_tokens > 0) {
    info.default_max_tokens = static_cast<int>(std::min<int64_t>(*g.max_new_tokens, 1 << 30));
  }
  info.created = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
  return std::make_unique<AsyncEngineClient>(std::move(engine), std::move(chat), std::move(info));
}

}  // namespace pagellm

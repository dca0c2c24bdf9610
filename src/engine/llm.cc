#include "engine/llm.h"

#include <map>

namespace pagellm {

StatusOr<std::unique_ptr<LLM>> LLM::Create(const EngineArgs& args) {
  ASSIGN_OR_RETURN(std::unique_ptr<LLMEngine> engine, LLMEngine::Create(args));
  return std::unique_ptr<LLM>(new LLM(std::move(engine)));
}

SamplingParams LLM::GetDefaultSamplingParams() const {
  SamplingParams p;
  engine_->ApplyGenerationDefaults(p);
  return p;
}

StatusOr<std::vector<RequestOutput>> LLM::RunToCompletion(const std::vector<std::string>& ids,
                                                          const GenerateOptions& options) {
  std::map<std::string, RequestOutput> done;
  while (engine_->HasUnfinishedRequests()) {
    if (options.cancel && options.cancel->load()) {
      engine_->AbortRequests(ids);
      return CancelledError("generation was interrupted");
    }
    auto step = engine_->Step();
    if (!step.ok()) {
      engine_->FailAll(step.status().message());
      return step.status();
    }
    for (RequestOutput& o : *step) {
      if (!o.finished) continue;
      done[o.request_id] = std::move(o);
      if (options.progress) options.progress(done.size(), ids.size());
    }
  }
  std::vector<RequestOutput> out;
  for (const std::string& id : ids) {
    auto it = done.find(id);
    if (it == done.end()) return InternalError("request " + id + " ended without output");
    out.push_back(std::move(it->second));
  }
  return out;
}

StatusOr<std::vector<RequestOutput>> LLM::Generate(const std::vector<PromptInput>& prompts,
                                                   const std::vector<SamplingParams>& params,
                                                   const GenerateOptions& options) {
  if (params.size() != 1 && params.size() != prompts.size()) {
    return InvalidArgumentError("the lengths of prompts and sampling_params must be the same");
  }
  std::vector<std::string> ids;
  for (size_t i = 0; i < prompts.size(); ++i) {
    SamplingParams p = params.size() == 1 ? params[0] : params[i];
    p.output_kind = RequestOutputKind::kFinalOnly;
    std::string id = std::to_string(next_id_++);
    Status s = engine_->AddRequest(id, prompts[i], p);
    if (!s.ok()) {
      engine_->AbortRequests(ids);
      return s.WithContext("prompt " + std::to_string(i));
    }
    ids.push_back(id);
  }
  return RunToCompletion(ids, options);
}

StatusOr<std::vector<BeamSearchOutput>> LLM::BeamSearch(const std::vector<PromptInput>& prompts,
                                                        const BeamSearchParams& params) {
  RETURN_IF_ERROR(params.Validate());
  const tokenizer::Tokenizer* tok = engine_->tokenizer();
  std::vector<BeamSearchInstance> instances;
  for (const PromptInput& p : prompts) {
    std::vector<int32_t> ids = p.token_ids;
    if (p.text) {
      if (!tok) return InvalidArgumentError("text prompts need a tokenizer");
      ASSIGN_OR_RETURN(ids, tok->Encode(*p.text, true));
    }
    instances.emplace_back(std::move(ids));
  }
  // vLLM's algorithm: every step, each live beam is one request for a single token whose
  // 2 * beam_width logprobs are the candidates; prefix caching reuses the beams' shared KV.
  SamplingParams step_params;
  step_params.max_tokens = 1;
  step_params.temperature = params.temperature;
  step_params.logprobs = 2 * params.beam_width;
  step_params.ignore_eos = true;  // EOS is judged by the beam search itself
  step_params.detokenize = false;
  for (int step = 0; step < params.max_tokens; ++step) {
    std::vector<PromptInput> beam_prompts;
    std::vector<std::pair<size_t, size_t>> owner;  // (instance, beam)
    for (size_t i = 0; i < instances.size(); ++i) {
      for (size_t b = 0; b < instances[i].beams.size(); ++b) {
        beam_prompts.push_back(PromptInput::Ids(instances[i].beams[b].tokens));
        owner.emplace_back(i, b);
      }
    }
    if (beam_prompts.empty()) break;
    ASSIGN_OR_RETURN(std::vector<RequestOutput> outs, Generate(beam_prompts, {step_params}));
    std::vector<std::vector<TokenLogprobs>> cands(instances.size());
    for (size_t k = 0; k < outs.size(); ++k) {
      const auto& lps = outs[k].outputs[0].logprobs;
      TokenLogprobs c;
      if (lps && !lps->empty()) {
        // Entry 0 is the sampled token; the top-k alternatives follow.
        c.token_ids.assign(lps->front().token_ids.begin() + 1, lps->front().token_ids.end());
        c.logprobs.assign(lps->front().logprobs.begin() + 1, lps->front().logprobs.end());
      }
      cands[owner[k].first].push_back(std::move(c));
    }
    for (size_t i = 0; i < instances.size(); ++i) {
      if (instances[i].beams.empty()) continue;
      BeamSearchStepFromCandidates(instances[i], cands[i], params, engine_->eos_token_id());
    }
  }
  std::vector<BeamSearchOutput> result;
  for (const BeamSearchInstance& inst : instances) {
    BeamSearchOutput out;
    for (const BeamSearchSequence& s : BeamSearchFinalize(inst, params, engine_->eos_token_id())) {
      BeamSearchOutput::Sequence seq{s.tokens, s.logprobs, s.cum_logprob,
                                     BeamSearchScore(s.tokens, s.cum_logprob, engine_->eos_token_id(),
                                                     params.length_penalty), ""};
      size_t prompt_len = s.tokens.size() - s.logprobs.size();
      if (tok) {
        std::vector<int32_t> gen(s.tokens.begin() + prompt_len, s.tokens.end());
        seq.text = tok->Decode(gen, true);
      }
      out.sequences.push_back(std::move(seq));
    }
    result.push_back(std::move(out));
  }
  return result;
}

}  // namespace pagellm

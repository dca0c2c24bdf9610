// LLM: the offline API with vLLM's shape: generate(prompts, sampling params) → RequestOutputs in
// prompt order; beam_search(prompts, BeamSearchParams). (chat() lives in the Python layer and
// the server, which render the chat template first.)
// Thread-safety: one call at a time.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "engine/llm_engine.h"
#include "sample/beam_search.h"

namespace pagellm {

struct BeamSearchOutput {
  // Best first; tokens are prompt + generated, text the decoded generated part.
  struct Sequence {
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
    double cum_logprob = 0.0;
    double score = 0.0;
    std::string text;
  };
  std::vector<Sequence> sequences;
};

// `progress(done, total)` is called as requests finish; `cancel` (if set) aborts everything
// when it becomes true.
struct GenerateOptions {
  std::function<void(size_t, size_t)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

class LLM {
 public:
  static StatusOr<std::unique_ptr<LLM>> Create(const EngineArgs& args);

  // One SamplingParams for all prompts, or one per prompt.
  StatusOr<std::vector<RequestOutput>> Generate(const std::vector<PromptInput>& prompts,
                                                const std::vector<SamplingParams>& params,
                                                const GenerateOptions& options = {});
  StatusOr<std::vector<BeamSearchOutput>> BeamSearch(const std::vector<PromptInput>& prompts,
                                                     const BeamSearchParams& params);
  // vLLM's LLM.get_default_sampling_params(): SamplingParams() with generation_config defaults.
  SamplingParams GetDefaultSamplingParams() const;

  LLMEngine& engine() { return *engine_; }

 private:
  explicit LLM(std::unique_ptr<LLMEngine> e) : engine_(std::move(e)) {}
  StatusOr<std::vector<RequestOutput>> RunToCompletion(const std::vector<std::string>& ids,
                                                       const GenerateOptions& options);

  std::unique_ptr<LLMEngine> engine_;
  uint64_t next_id_ = 0;
};

}  // namespace pagellm

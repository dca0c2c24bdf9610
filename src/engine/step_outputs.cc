#include "engine/step_outputs.h"

#include <map>
#include <string>
#include <vector>

#include "base/logging.h"

namespace pagellm {

OutputProcessor::Result ProcessStepOutputs(Scheduler& scheduler, OutputProcessor& outputs,
                                           const SchedulerOutput& sched, ModelRunnerOutput& run,
                                           int64_t& generation_tokens) {
  std::vector<EngineCoreOutput> core = scheduler.Update(sched, run);
  std::map<std::string, std::vector<TokenLogprobs>> prompt_lp;
  for (size_t i = 0; i < run.prompt_logprobs.size(); ++i) {
    if (!run.prompt_logprobs[i].empty()) prompt_lp[run.req_ids[i]] = std::move(run.prompt_logprobs[i]);
  }
  for (const auto& o : core) generation_tokens += static_cast<int64_t>(o.new_token_ids.size());
  OutputProcessor::Result result = outputs.Process(core, prompt_lp);
  for (const auto& [child, stop] : result.stopped_by_string) {
    Status s = scheduler.FinishRequest(child, FinishReason::kStop, stop);
    if (!s.ok()) LOG_DEBUG("stop string for {}: {}", child, s.ToString());
  }
  return result;
}

}  // namespace pagellm

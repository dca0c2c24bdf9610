// OutputProcessor: turns EngineCoreOutputs (token ids) into RequestOutputs (vLLM's
// OutputProcessor): incremental detokenization, stop strings (held back while streaming,
// include_stop_str_in_output), logprobs accumulation, n > 1 children grouped under the user's
// request id, and the three output kinds (cumulative, delta, final only).
// Thread-safety: one thread (the engine thread).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/request_output.h"
#include "sched/scheduler_output.h"
#include "tokenizer/incremental_detokenizer.h"

namespace pagellm {

class OutputProcessor {
 public:
  // `tokenizer` may be null (token-id mode: no text, no stop strings).
  explicit OutputProcessor(const tokenizer::Tokenizer* tokenizer) : tokenizer_(tokenizer) {}

  // Registers a user request (its n children are "{i}_{id}" when n > 1, else `id`).
  void AddRequest(const std::string& id, std::optional<std::string> prompt,
                  std::vector<int32_t> prompt_token_ids, const SamplingParams& params);

  struct Result {
    std::vector<RequestOutput> outputs;
    // Child request ids that matched a stop string: the caller finishes them in the scheduler.
    std::vector<std::pair<std::string, std::string>> stopped_by_string;
  };
  Result Process(const std::vector<EngineCoreOutput>& outputs,
                 const std::map<std::string, std::vector<TokenLogprobs>>& prompt_logprobs);

  // Final outputs for requests aborted (or failed) from outside; `error` marks a failure.
  std::vector<RequestOutput> Abort(const std::vector<std::string>& ids,
                                   std::optional<std::string> error = std::nullopt);

  bool Has(const std::string& id) const { return requests_.count(id) > 0; }
  std::vector<std::string> RequestIds() const;
  size_t num_requests() const { return requests_.size(); }

 private:
  struct Child {
    std::unique_ptr<tokenizer::IncrementalDetokenizer> detok;
    std::string text;
    std::vector<int32_t> token_ids;
    std::vector<TokenLogprobs> logprobs;
    double cumulative_logprob = 0.0;
    size_t sent_text = 0;    // delta mode: bytes of text already returned
    size_t sent_tokens = 0;  // delta mode: tokens already returned
    size_t sent_logprobs = 0;
    std::optional<FinishReason> finish_reason;
    StopReason stop_reason;
    bool changed = false;
  };
  struct Parent {
    std::string id;
    std::optional<std::string> prompt;
    std::vector<int32_t> prompt_token_ids;
    SamplingParams params;
    std::vector<Child> children;
    std::vector<std::optional<TokenLogprobs>> prompt_logprobs;  // starts with None
    bool prompt_logprobs_sent = false;
    int32_t num_cached_tokens = 0;
    bool touched = false;  // within Process(): already queued for an output
  };

  void Append(Parent& p, Child& c, const EngineCoreOutput& o, Result& result,
              const std::string& child_id);
  std::optional<std::string> CheckStopStrings(const Parent& p, Child& c, size_t new_text_from);
  // REQUIRES: when `finished`, the caller erases p afterwards (its vectors are moved out).
  RequestOutput Build(Parent& p, bool finished);
  size_t VisibleTextLength(const Parent& p, const Child& c) const;

  const tokenizer::Tokenizer* tokenizer_;
  std::unordered_map<std::string, Parent> requests_;
  // The unfinished requests of the last Process() in output order: the next step's outputs
  // usually come in the same order, so Process() tries them before hashing an id. Elements of
  // requests_ keep their address until erased; every erase drops them from here.
  std::vector<Parent*> last_order_;
};

}  // namespace pagellm

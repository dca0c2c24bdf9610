// Request: one sequence the scheduler tracks (vLLM V1's Request), and what the engine hands in.
// Parallel sampling (n > 1) becomes n child Requests "{i}_{parent}" (see scheduler.h).
// Thread-safety: owned by the scheduler thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kv/block_hash.h"
#include "sample/sampling_params.h"

namespace pagellm {

enum class RequestStatus {
  kWaiting,
  kRunning,
  kPreempted,
  kFinishedStopped,
  kFinishedLengthCapped,
  kFinishedAborted,
};

enum class FinishReason { kStop, kLength, kAbort };

// "stop", "length", "abort" (OpenAI's finish_reason strings).
std::string_view FinishReasonName(FinishReason reason);

// Why a request stopped: nothing (EOS, length), the stop token id, or the stop string.
using StopReason = std::variant<std::monostate, int32_t, std::string>;

// What the engine submits (vLLM's EngineCoreRequest): tokenized prompt and finalized params.
struct EngineCoreRequest {
  std::string request_id;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams sampling_params;
  std::optional<int32_t> eos_token_id;  // the model's EOS (ignored when ignore_eos)
  int priority = 0;                     // lower runs first under the priority policy
  double arrival_time = 0.0;
  BlockHashExtraKeys cache_keys;        // cache_salt / LoRA id for prefix caching
};

struct Request {
  std::string request_id;
  std::string parent_request_id;  // set for the children of an n > 1 request
  int child_index = 0;
  std::vector<int32_t> prompt_token_ids;
  std::vector<int32_t> output_token_ids;
  std::vector<int32_t> all_token_ids;  // prompt + output
  SamplingParams sampling_params;
  std::optional<int32_t> eos_token_id;
  int priority = 0;
  double arrival_time = 0.0;
  int64_t arrival_seq = 0;  // tie-breaker: order of AddRequest
  BlockHashExtraKeys cache_keys;
  int32_t max_tokens = 0;   // resolved: params.max_tokens or the rest of the context

  RequestStatus status = RequestStatus::kWaiting;
  int32_t num_computed_tokens = 0;
  int32_t num_cached_tokens = -1;  // prefix-cache hit at first scheduling (-1: not yet)
  int32_t num_preemptions = 0;
  StopReason stop_reason;
  // Model-runner sync: whether the runner holds this request's state, and how many of
  // all_token_ids it knows.
  bool sent_to_runner = false;
  int32_t num_synced_tokens = 0;
  // Async scheduling (vLLM's num_output_placeholders): tokens scheduled steps will sample that
  // Update has not appended yet. The next decode is scheduled as if they were there.
  int32_t num_output_placeholders = 0;
  // Scheduler bookkeeping within one Schedule(): tokens scheduled for it (0 between calls).
  int32_t step_num_tokens = 0;

  int32_t num_tokens() const { return static_cast<int32_t>(all_token_ids.size()); }
  int32_t num_prompt_tokens() const { return static_cast<int32_t>(prompt_token_ids.size()); }
  int32_t num_output_tokens() const { return static_cast<int32_t>(output_token_ids.size()); }
  bool is_finished() const { return status >= RequestStatus::kFinishedStopped; }
  std::optional<FinishReason> finish_reason() const;
  void AppendOutputToken(int32_t token) {
    output_token_ids.push_back(token);
    all_token_ids.push_back(token);
  }
};

}  // namespace pagellm

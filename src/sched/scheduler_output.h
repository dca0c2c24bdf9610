// The plain structs passed between Scheduler, ModelRunner and engine each step (vLLM V1's
// SchedulerOutput, ModelRunnerOutput and EngineCoreOutput). No behaviour: loggable, testable,
// sendable to tensor-parallel workers.
//
// How a model runner applies a SchedulerOutput, in this order:
//   1. drop its state of finished_req_ids and preempted_req_ids;
//   2. execute block_copies (copy-on-write: KV of src_block → dst_block, every layer);
//   3. add scheduled_new_reqs (full state; a request resumed after preemption comes back here
//      with its output tokens so far), update scheduled_cached_reqs (append new_token_ids and
//      new_block_ids, then overwrite block-table entries named in replaced_block_ids);
//   4. run num_scheduled_tokens[id] tokens per request starting at its num_computed_tokens,
//      and sample a token for every request whose computed tokens then reach its token count.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kv/kv_cache_manager.h"
#include "sample/logprobs.h"
#include "sample/sampling_params.h"
#include "sched/request.h"
#include "sched/sorted_id_map.h"

namespace pagellm {

struct NewRequestData {
  std::string req_id;
  std::vector<int32_t> prompt_token_ids;
  std::vector<int32_t> output_token_ids;  // non-empty for a request resumed after preemption
  SamplingParams sampling_params;
  std::optional<int32_t> eos_token_id;
  std::vector<int32_t> block_ids;         // the whole block table
  int32_t num_computed_tokens = 0;        // before this step (prefix-cache hit or fork)
};

struct CachedRequestData {
  std::string req_id;
  std::vector<int32_t> new_token_ids;     // output tokens the runner has not seen yet
  std::vector<int32_t> new_block_ids;     // appended to the block table
  std::vector<std::pair<int32_t, int32_t>> replaced_block_ids;  // (table index, block id)
  int32_t num_computed_tokens = 0;        // before this step
};

struct SchedulerOutput {
  std::vector<NewRequestData> scheduled_new_reqs;
  std::vector<CachedRequestData> scheduled_cached_reqs;
  SortedIdMap num_scheduled_tokens;  // by request id (the runner's batch row order)
  int32_t total_num_scheduled_tokens = 0;
  std::vector<std::string> finished_req_ids;   // finished or aborted since the last step
  std::vector<std::string> preempted_req_ids;  // preempted in this step (state to drop)
  std::vector<BlockCopy> block_copies;         // run before the forward pass

  bool empty() const { return total_num_scheduled_tokens == 0; }
};

// One line for logs: "new 2 (+130 tok) cached 14 total 146 tok preempted 0 finished 1 copies 0".
std::string SchedulerOutputSummary(const SchedulerOutput& out);

struct ModelRunnerOutput {
  std::vector<std::string> req_ids;
  // Per request: the sampled token (more with speculative decoding); empty when the step was a
  // partial prefill chunk.
  std::vector<std::vector<int32_t>> sampled_token_ids;
  // Empty, or per request one TokenLogprobs per sampled token (for requests asking logprobs).
  std::vector<std::vector<TokenLogprobs>> logprobs;
  // Empty, or per request the prompt logprobs computed this step (positions in order; the
  // engine prepends vLLM's None for the first prompt token).
  std::vector<std::vector<TokenLogprobs>> prompt_logprobs;
};

struct EngineCoreOutput {
  std::string request_id;
  std::string parent_request_id;  // for n > 1: the id the user submitted
  int child_index = 0;
  std::vector<int32_t> new_token_ids;
  std::vector<TokenLogprobs> new_logprobs;
  std::optional<FinishReason> finish_reason;
  StopReason stop_reason;
  int32_t num_cached_tokens = 0;

  bool finished() const { return finish_reason.has_value(); }
};

}  // namespace pagellm

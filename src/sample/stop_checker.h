// Stop strings, checked on detokenized text by the engine (vLLM's StopChecker semantics), and
// other request-side helpers that need no tokenizer.
//
// Engine use, after appending `new_chars` characters (bytes) of detokenized text to `text`:
//   if (auto m = CheckStopStrings(text, new_chars, p.stop, p.include_stop_str_in_output)) {
//     if (m->truncate_to >= 0) text.resize(m->truncate_to);
//     scheduler.FinishRequest(id, FinishReason::kStop, m->stop_string);
//   }
// While streaming, hold back the last StopStringHoldback(p) characters (they may begin a stop
// string that is not complete yet).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sample/sampling_params.h"

namespace pagellm {

struct StopStringMatch {
  std::string stop_string;
  int64_t truncate_to = -1;  // new length of the text; -1 = keep it all
};

// Looks for any stop string in the part of `text` that the last new_char_count characters could
// complete. The match's text ends before the stop string, or after it when include_in_output.
std::optional<StopStringMatch> CheckStopStrings(std::string_view text, int64_t new_char_count,
                                                const std::vector<std::string>& stop,
                                                bool include_in_output);

// Characters to hold back while streaming (vLLM's output_text_buffer_length).
int64_t StopStringHoldback(const SamplingParams& p);

// Keeps the last truncate_prompt_tokens tokens of a prompt (-1: the last max_model_len), as
// vLLM truncates from the left; unchanged when unset.
std::vector<int32_t> TruncatePrompt(std::span<const int32_t> prompt, const SamplingParams& p,
                                    int32_t max_model_len);

// vLLM's update_from_generation_config for EOS: the model's extra EOS ids (generation_config's
// eos_token_id list, minus the primary eos_token_id) stop generation like stop_token_ids
// unless ignore_eos.
void AddGenerationConfigEos(SamplingParams& p, const std::vector<int64_t>& generation_eos_ids,
                            std::optional<int32_t> eos_token_id);

}  // namespace pagellm

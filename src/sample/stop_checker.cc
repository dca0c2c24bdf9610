#include "sample/stop_checker.h"

#include <algorithm>

namespace pagellm {

std::optional<StopStringMatch> CheckStopStrings(std::string_view text, int64_t new_char_count,
                                                const std::vector<std::string>& stop,
                                                bool include_in_output) {
  if (new_char_count <= 0 || stop.empty()) return std::nullopt;
  const int64_t len = static_cast<int64_t>(text.size());
  for (const std::string& s : stop) {
    const int64_t slen = static_cast<int64_t>(s.size());
    // Only text the new characters could complete needs a search.
    int64_t from = std::max<int64_t>(0, len - new_char_count - slen + 1);
    size_t pos = text.find(s, static_cast<size_t>(from));
    if (pos == std::string_view::npos) continue;
    int64_t index = static_cast<int64_t>(pos);
    if (include_in_output) {
      index += slen;
      if (index >= len) return StopStringMatch{s, -1};
    }
    return StopStringMatch{s, index};
  }
  return std::nullopt;
}

int64_t StopStringHoldback(const SamplingParams& p) {
  if (p.stop.empty() || p.include_stop_str_in_output) return 0;
  size_t longest = 0;
  for (const auto& s : p.stop) longest = std::max(longest, s.size());
  return static_cast<int64_t>(longest) - 1;
}

std::vector<int32_t> TruncatePrompt(std::span<const int32_t> prompt, const SamplingParams& p,
                                    int32_t max_model_len) {
  if (!p.truncate_prompt_tokens) return {prompt.begin(), prompt.end()};
  int64_t keep = *p.truncate_prompt_tokens == -1 ? max_model_len : *p.truncate_prompt_tokens;
  if (keep >= static_cast<int64_t>(prompt.size())) return {prompt.begin(), prompt.end()};
  return {prompt.end() - keep, prompt.end()};
}

void AddGenerationConfigEos(SamplingParams& p, const std::vector<int64_t>& generation_eos_ids,
                            std::optional<int32_t> eos_token_id) {
  if (p.ignore_eos) return;
  for (int64_t id : generation_eos_ids) {
    if (eos_token_id && id == *eos_token_id) continue;
    if (std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), id) == p.stop_token_ids.end())
      p.stop_token_ids.push_back(static_cast<int32_t>(id));
  }
}

}  // namespace pagellm

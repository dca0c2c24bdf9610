// Request structs of the OpenAI/vLLM HTTP API, parsed from JSON at the edge.
// Parsing validates types and ranges (→ InvalidArgument → 400); the handlers then only deal
// with the model-dependent checks (unknown model, context length, tokenizer presence).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/engine_client.h"
#include "server/json_fields.h"

namespace pagellm::server {

// Fields shared by /v1/completions and /v1/chat/completions.
struct CommonRequest {
  std::string model;                     // empty: the first served name
  RequestSampling sampling;              // max_tokens resolved later (see max_tokens)
  std::optional<int> max_tokens;         // unset: fill the context (vLLM's default)
  bool stream = false;
  bool include_usage = false;            // stream_options.include_usage
  bool continuous_usage_stats = false;   // stream_options.continuous_usage_stats
  bool return_tokens_as_token_ids = false;
  bool return_token_ids = false;         // include "token_ids" in choices
  std::optional<bool> add_special_tokens;  // unset: completions true, chat false
  int priority = 0;
  std::optional<std::string> request_id;
  std::optional<std::string> user;
};

// One prompt: text, or token ids.
struct PromptInput {
  bool is_tokens = false;
  std::string text;
  std::vector<int32_t> token_ids;
};

struct CompletionRequest {
  CommonRequest common;
  std::vector<PromptInput> prompts;
  bool echo = false;
};

struct ChatRequest {
  CommonRequest common;
  ChatTemplateRequest chat;
  bool logprobs = false;
  std::optional<int> top_logprobs;
};

struct TokenizeRequest {
  std::string model;
  bool has_messages = false;
  std::string prompt;
  ChatTemplateRequest chat;       // when has_messages
  std::optional<bool> add_special_tokens;  // unset: prompt true, messages false
  bool return_token_strs = false;
};

struct DetokenizeRequest {
  std::string model;
  std::vector<int32_t> tokens;
};

// The legacy POST /generate of early vLLM: {"prompt", "stream", sampling fields...}.
struct LegacyGenerateRequest {
  PromptInput prompt;
  CommonRequest common;
};

// Parses the shared sampling/stream fields. `max_logprobs` bounds logprob counts.
Status ParseCommonFields(const Json& o, int max_logprobs, CommonRequest* out);
StatusOr<CompletionRequest> ParseCompletionRequest(const Json& o, int max_logprobs);
StatusOr<ChatRequest> ParseChatRequest(const Json& o, int max_logprobs);
StatusOr<TokenizeRequest> ParseTokenizeRequest(const Json& o);
StatusOr<DetokenizeRequest> ParseDetokenizeRequest(const Json& o);
StatusOr<LegacyGenerateRequest> ParseLegacyGenerateRequest(const Json& o, int max_logprobs);
// Validates chat messages and flattens content parts to strings (text parts joined by "\n").
Status NormalizeMessages(const Json& messages, Json* out);

}  // namespace pagellm::server

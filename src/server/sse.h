// Server-sent events framing as OpenAI and vLLM send it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace pagellm::server {

inline constexpr const char* kSseContentType = "text/event-stream; charset=utf-8";
// "data: {json}\n\n" (compact JSON, invalid UTF-8 replaced rather than thrown).
std::string SseEvent(const nlohmann::json& payload);
// "data: [DONE]\n\n"
std::string SseDone();
// Serializes a response body without ever throwing on invalid UTF-8 from a model.
std::string DumpJson(const nlohmann::json& j);

}  // namespace pagellm::server

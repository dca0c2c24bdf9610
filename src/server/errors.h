// OpenAI-shaped error responses and the ONE mapping from Status codes to HTTP statuses.
#pragma once

#include <string>

#include "base/status.h"

namespace pagellm::server {

// HTTP status for a Status code (kOk → 200).
int HttpStatusFor(StatusCode code);
// vLLM's error "type" for an HTTP status, e.g. 400 → "BadRequestError".
const char* ErrorTypeFor(int http_status);
// {"error": {"message", "type", "param", "code"}} as vLLM/OpenAI send it (code = HTTP status).
std::string ErrorJson(int http_status, const std::string& message);
std::string ErrorJson(const Status& status);
// The standard reason phrase ("Bad Request").
const char* ReasonPhrase(int http_status);

}  // namespace pagellm::server

// The core of `pagellm run-batch`: runs the lines of an OpenAI batch file through the HTTP
// API's own handlers (server::Route with an in-memory exchange), so a batch body means exactly
// what the same body means at POST /v1/completions or /v1/chat/completions, and the response
// body is byte for byte what the endpoint returns. Every valid line is submitted at once; the
// engine batches them continuously.
//
// Input line:  {"custom_id": "...", "method": "POST", "url": "/v1/completions" |
//               "/v1/chat/completions", "body": {...}}
// Output line: {"id": "batch_req_<hex>", "custom_id": ..., "response": {"status_code": 200,
//               "request_id": <the response's "id">, "body": <endpoint JSON>}, "error": null}
// A failing line (bad JSON, missing custom_id, other method or url, "stream": true, any 4xx/5xx
// of the endpoint) gets response.status_code = the HTTP status (400 for line-level problems),
// response.body = the endpoint's OpenAI error JSON ({"error": {...}}) and "error" = that same
// {"message", "type", "param", "code"} object; the other lines are unaffected.
// Thread-safety: one RunBatch call at a time per engine; it blocks until every line is done.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/engine_client.h"

namespace pagellm::cli {

struct BatchOptions {
  bool disable_log_requests = true;       // the server's per-request log line
  bool return_tokens_as_token_ids = false;
};

struct BatchSummary {
  size_t num_lines = 0;  // non-blank input lines (= output lines)
  size_t num_ok = 0;     // status_code 200
  size_t num_failed = 0;
};

// Runs `lines` (blank ones are skipped, as vLLM does) and hands each output line to `emit` in
// input order, as soon as it and every line before it are done. Lines are ordered JSON: the
// keys in OpenAI's order, the body's exactly as the endpoint wrote them.
BatchSummary RunBatch(server::EngineClient& engine, const std::vector<std::string>& lines,
                      const BatchOptions& options,
                      const std::function<void(const nlohmann::ordered_json&)>& emit);

}  // namespace pagellm::cli

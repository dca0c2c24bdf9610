// A small blocking HTTP client over libcurl for the Hugging Face hub (hub.cc).
// Thread-safety: each call is independent; curl's global init happens once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace pagellm {

struct HttpResponse {
  long status = 0;
  std::string body;
  // Header names lowercased. `hops` holds each response's headers along a redirect chain.
  std::vector<std::map<std::string, std::string>> hops;
  // First value of `name` along the chain, or "".
  std::string Header(const std::string& name) const;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  long timeout_s = 0;                // 0 = none (large downloads); connect timeout is separate
  // Download target: when set, the body is appended to this file from `resume_from` (a Range
  // request) instead of kept in memory. A server that ignores the Range gives
  // FailedPrecondition (the caller restarts from 0). Error pages never reach the file.
  std::string body_path;
  uint64_t resume_from = 0;
  // Called with (bytes so far, total or 0) at most every ~100 ms.
  std::function<void(uint64_t, uint64_t)> progress;
};

// Performs a GET following redirects. Transport failures are Unavailable naming the URL; HTTP
// error codes are returned in `status` for the caller to map.
StatusOr<HttpResponse> HttpGet(const HttpRequest& req);

// "refs/pr/1" -> "refs%2Fpr%2F1".
std::string UrlEscape(const std::string& s);

}  // namespace pagellm

#include "model/hub_http.h"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace pagellm {
namespace {

struct Transfer {
  const HttpRequest* req = nullptr;
  HttpResponse* resp = nullptr;
  CURL* curl = nullptr;
  FILE* file = nullptr;
  Status file_error;
  std::chrono::steady_clock::time_point last_progress{};
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response along the redirect chain
    t->resp->hops.emplace_back();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos || t->resp->hops.empty()) return size * n;
  std::string name = line.substr(0, colon), value = line.substr(colon + 1);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  t->resp->hops.back().emplace(name, value);
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  // Error pages stay in memory (for the message), never in the download file.
  if (t->file == nullptr || code >= 300) {
    if (t->resp->body.size() < (1u << 20) || t->file == nullptr) t->resp->body.append(data, size * n);
    return size * n;
  }
  if (std::fwrite(data, 1, size * n, t->file) != size * n) {
    t->file_error = UnavailableError("cannot write " + t->req->body_path);
    return 0;
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->req->progress) return 0;
  auto clock = std::chrono::steady_clock::now();
  if (clock - t->last_progress < std::chrono::milliseconds(100) && (total == 0 || now < total)) return 0;
  t->last_progress = clock;
  t->req->progress(t->req->resume_from + static_cast<uint64_t>(now),
                   total > 0 ? t->req->resume_from + static_cast<uint64_t>(total) : 0);
  return 0;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& hop : hops) {
    auto it = hop.find(name);
    if (it != hop.end()) return it->second;
  }
  return "";
}

std::string UrlEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

StatusOr<HttpResponse> HttpGet(const HttpRequest& req) {
  GlobalInit();
  HttpResponse resp;
  Transfer t;
  t.req = &req;
  t.resp = &resp;
  if (!req.body_path.empty()) {
    t.file = std::fopen(req.body_path.c_str(), req.resume_from > 0 ? "ab" : "wb");
    if (t.file == nullptr) return UnavailableError("cannot open " + req.body_path + " for writing");
  }
  CURL* c = curl_easy_init();
  if (c == nullptr) {
    if (t.file != nullptr) std::fclose(t.file);
    return InternalError("curl_easy_init failed");
  }
  t.curl = c;
  curl_slist* headers = nullptr;
  for (const auto& h : req.headers) headers = curl_slist_append(headers, h.c_str());
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "pagellm/" PAGELLM_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, req.timeout_s);
  // Stalled transfers (< 1 KB/s for 60 s) fail instead of hanging forever.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (req.resume_from > 0) curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(req.resume_from));
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (t.file != nullptr && std::fclose(t.file) != 0 && t.file_error.ok())
    t.file_error = UnavailableError("cannot write " + req.body_path);
  if (!t.file_error.ok()) return t.file_error;
  if (rc == CURLE_RANGE_ERROR)
    return FailedPreconditionError("GET " + req.url + ": server cannot resume at byte " +
                                   std::to_string(req.resume_from));
  if (rc != CURLE_OK)
    return UnavailableError("GET " + req.url + " failed: " + (err[0] ? err : curl_easy_strerror(rc)));
  return resp;
}

}  // namespace pagellm

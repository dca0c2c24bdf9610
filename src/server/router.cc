// The route table and the checks every request passes first.
#include <cstring>
#include <functional>

#include "base/logging.h"
#include "server/errors.h"
#include "server/serving.h"

namespace pagellm::server {
namespace {

using JsonHandler = void (*)(ServingContext&, std::shared_ptr<HttpExchange>, const Json&);
using PlainHandler = void (*)(ServingContext&, std::shared_ptr<HttpExchange>);

struct RouteEntry {
  const char* method;
  const char* path;
  JsonHandler json = nullptr;    // POST routes with a JSON body
  PlainHandler plain = nullptr;  // GET routes
};

const RouteEntry kRoutes[] = {
    {"POST", "/v1/completions", HandleCompletion, nullptr},
    {"POST", "/v1/chat/completions", HandleChat, nullptr},
    {"POST", "/tokenize", HandleTokenize, nullptr},
    {"POST", "/detokenize", HandleDetokenize, nullptr},
    {"POST", "/generate", HandleLegacyGenerate, nullptr},
    {"GET", "/v1/models", nullptr, HandleModels},
    {"GET", "/health", nullptr, HandleHealth},
    {"GET", "/ping", nullptr, HandleHealth},
    {"POST", "/ping", nullptr, HandleHealth},
    {"GET", "/version", nullptr, HandleVersion},
    {"GET", "/metrics", nullptr, HandleMetrics},
};

// Compares without an early exit, so timing does not reveal how much of the key matched.
bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

void Preflight(HttpExchange& ex) {
  std::string headers = ex.request().Header("access-control-request-headers");
  ex.Respond(HttpResponse{200, "", "", {{"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                                        {"Access-Control-Allow-Headers",
                                         headers.empty() ? "*" : headers},
                                        {"Access-Control-Max-Age", "600"}}});
}

void Dispatch(ServingContext& ctx, const std::shared_ptr<HttpExchange>& ex) {
  const HttpRequest& req = ex->request();
  bool path_known = false;
  for (const RouteEntry& r : kRoutes) {
    if (req.path != r.path) continue;
    path_known = true;
    if (req.method != r.method) continue;
    if (r.plain) return r.plain(ctx, ex);
    auto body = ParseJsonObject(req.body);
    if (!body.ok()) return RespondError(*ex, body.status());
    return r.json(ctx, ex, *body);
  }
  if (path_known) {
    return ex->Respond(HttpResponse{405, "application/json",
                                    ErrorJson(405, "Method Not Allowed"), {}});
  }
  RespondError(*ex, NotFoundError("Not Found: " + req.path));
}

}  // namespace

void Route(ServingContext& ctx, std::shared_ptr<HttpExchange> ex) {
  const HttpRequest& req = ex->request();
  if (req.method == "OPTIONS") return Preflight(*ex);
  if (ctx.draining && req.path != "/metrics") {
    return RespondError(*ex, UnavailableError("server is shutting down"));
  }
  if (!ctx.options.api_key.empty() && req.path.rfind("/v1", 0) == 0 &&
      !SameSecret(req.Header("authorization"), "Bearer " + ctx.options.api_key)) {
    return RespondError(*ex, UnauthenticatedError("Unauthorized"));
  }
  try {
    Dispatch(ctx, ex);
  } catch (const nlohmann::json::exception& e) {
    // A value of an unexpected shape reached code that assumed one: the client's fault.
    if (!ex->closed()) RespondError(*ex, InvalidArgumentError(std::string("invalid request: ") + e.what()));
  } catch (const std::exception& e) {
    LOG_ERROR("{} {}: {}", req.method, req.path, e.what());
    if (!ex->closed()) RespondError(*ex, InternalError("internal error"));
  }
}

}  // namespace pagellm::server

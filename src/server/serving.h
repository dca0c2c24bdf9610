// Route handlers. Each runs on the exchange's strand and answers through it (now or later).
#pragma once

#include <memory>

#include "server/serving_context.h"

namespace pagellm::server {

// Dispatches one request: CORS preflight, draining (503), API key (401 on /v1), routing
// (404/405), JSON parsing (400), and turns any exception into an error response.
void Route(ServingContext& ctx, std::shared_ptr<HttpExchange> ex);

void HandleCompletion(ServingContext& ctx, std::shared_ptr<HttpExchange> ex, const Json& body);
void HandleChat(ServingContext& ctx, std::shared_ptr<HttpExchange> ex, const Json& body);
void HandleLegacyGenerate(ServingContext& ctx, std::shared_ptr<HttpExchange> ex,
                          const Json& body);
void HandleTokenize(ServingContext& ctx, std::shared_ptr<HttpExchange> ex, const Json& body);
void HandleDetokenize(ServingContext& ctx, std::shared_ptr<HttpExchange> ex, const Json& body);
void HandleModels(ServingContext& ctx, std::shared_ptr<HttpExchange> ex);
void HandleHealth(ServingContext& ctx, std::shared_ptr<HttpExchange> ex);
void HandleVersion(ServingContext& ctx, std::shared_ptr<HttpExchange> ex);
void HandleMetrics(ServingContext& ctx, std::shared_ptr<HttpExchange> ex);

}  // namespace pagellm::server

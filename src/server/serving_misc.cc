// /v1/models, /tokenize, /detokenize, /health, /version, /metrics.
#include "server/serving.h"

#include <fmt/format.h>

namespace pagellm::server {

void HandleModels(ServingContext& ctx, std::shared_ptr<HttpExchange> ex) {
  Json data = Json::array();
  for (const auto& name : ctx.model.served_model_names) {
    Json permission = {{"id", ctx.NewId("modelperm")}, {"object", "model_permission"},
                       {"created", ctx.model.created}, {"allow_create_engine", false},
                       {"allow_sampling", true}, {"allow_logprobs", true},
                       {"allow_search_indices", false}, {"allow_view", true},
                       {"allow_fine_tuning", false}, {"organization", "*"}, {"group", nullptr},
                       {"is_blocking", false}};
    data.push_back({{"id", name}, {"object", "model"}, {"created", ctx.model.created},
                    {"owned_by", "pagellm"}, {"root", ctx.model.root.empty() ? name : ctx.model.root},
                    {"parent", nullptr}, {"max_model_len", ctx.model.max_model_len},
                    {"permission", Json::array({permission})}});
  }
  RespondJson(*ex, 200, {{"object", "list"}, {"data", data}});
}

static Status NeedTokenizer(const ServingContext& ctx) {
  if (ctx.engine->HasTokenizer()) return OkStatus();
  return InvalidArgumentError("this endpoint needs a tokenizer, but the server runs with "
                              "--skip-tokenizer-init");
}

void HandleTokenize(ServingContext& ctx, std::shared_ptr<HttpExchange> ex, const Json& body) {
  auto req = ParseTokenizeRequest(body);
  if (!req.ok()) return RespondError(*ex, req.status());
  Status st = CheckModel(ctx, req->model);
  if (st.ok()) st = NeedTokenizer(ctx);
  if (!st.ok()) return RespondError(*ex, st);
  std::string text = req->prompt;
  if (req->has_messages) {
    auto rendered = ctx.engine->ApplyChatTemplate(req->chat);
    if (!rendered.ok()) return RespondError(*ex, rendered.status());
    text = *rendered;
  }
  auto ids = ctx.engine->Encode(text, req->add_special_tokens.value_or(!req->has_messages));
  if (!ids.ok()) return RespondError(*ex, ids.status());
  Json out = {{"count", ids->size()}, {"max_model_len", ctx.model.max_model_len},
              {"tokens", *ids}, {"token_strs", nullptr}};
  if (req->return_token_strs) {
    Json strs = Json::array();
    for (int32_t id : *ids) {
      auto s = ctx.engine->Decode({id}, false);
      strs.push_back(s.ok() ? *s : "");
    }
    out["token_strs"] = strs;
  }
  RespondJson(*ex, 200, out);
}

void HandleDetokenize(ServingContext& ctx, std::shared_ptr<HttpExchange> ex, const Json& body) {
  auto req = ParseDetokenizeRequest(body);
  if (!req.ok()) return RespondError(*ex, req.status());
  Status st = CheckModel(ctx, req->model);
  if (st.ok()) st = NeedTokenizer(ctx);
  if (!st.ok()) return RespondError(*ex, st);
  auto text = ctx.engine->Decode(req->tokens, false);
  if (!text.ok()) return RespondError(*ex, text.status());
  RespondJson(*ex, 200, {{"prompt", *text}});
}

void HandleHealth(ServingContext& ctx, std::shared_ptr<HttpExchange> ex) {
  Status st = ctx.draining ? UnavailableError("server is shutting down")
                           : ctx.engine->CheckHealth();
  if (!st.ok()) return RespondError(*ex, st);
  ex->Respond(HttpResponse{200, "", "", {}});
}

void HandleVersion(ServingContext& ctx, std::shared_ptr<HttpExchange> ex) {
  RespondJson(*ex, 200, {{"version", PAGELLM_VERSION}});
}

void HandleMetrics(ServingContext& ctx, std::shared_ptr<HttpExchange> ex) {
  ex->Respond(HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                           ctx.metrics->Render(ctx.engine->GetMetrics()), {}});
}

}  // namespace pagellm::server

// Logprob renderings of the completions API (and vLLM's prompt_logprobs).
#include <cmath>

#include "server/generation_job.h"

namespace pagellm::server {
// JSON has no -inf; vLLM clamps to -9999.0.
static double Clamp(float lp) {
  return std::isfinite(lp) ? std::max(static_cast<double>(lp), -9999.0) : -9999.0;
}

Json CompletionLogprobs(const ServingContext& ctx, const CommonRequest& req,
                        const std::vector<std::optional<TokenLogprob>>& entries,
                        int text_offset) {
  Json tokens = Json::array(), token_logprobs = Json::array(), top = Json::array(),
       offsets = Json::array();
  for (const auto& e : entries) {
    if (!e) {  // the first prompt token has no logprob
      tokens.push_back("");
      token_logprobs.push_back(nullptr);
      top.push_back(nullptr);
      offsets.push_back(text_offset);
      continue;
    }
    std::string tok = LogprobTokenString(ctx, req, e->token_id, e->token);
    Json top_map = Json::object();
    for (const auto& t : e->top) {
      top_map[LogprobTokenString(ctx, req, t.token_id, t.token)] = Clamp(t.logprob);
    }
    if (!top_map.contains(tok)) top_map[tok] = Clamp(e->logprob);
    tokens.push_back(tok);
    token_logprobs.push_back(Clamp(e->logprob));
    top.push_back(std::move(top_map));
    offsets.push_back(text_offset);
    // Offsets count the decoded text (token-id strings in token-id mode count as nothing).
    if (ctx.engine->HasTokenizer()) text_offset += static_cast<int>(e->token.size());
  }
  return {{"text_offset", offsets}, {"token_logprobs", token_logprobs}, {"tokens", tokens},
          {"top_logprobs", top}};
}

Json PromptLogprobsJson(const ServingContext& ctx, const CommonRequest& req,
                        const std::vector<std::optional<TokenLogprob>>& entries) {
  Json out = Json::array();
  for (const auto& e : entries) {
    if (!e) {
      out.push_back(nullptr);
      continue;
    }
    Json m = Json::object();
    int rank = 1;
    for (const auto& t : e->top) {
      m[std::to_string(t.token_id)] = {{"logprob", Clamp(t.logprob)}, {"rank", rank++},
                                       {"decoded_token",
                                        LogprobTokenString(ctx, req, t.token_id, t.token)}};
    }
    std::string key = std::to_string(e->token_id);
    if (!m.contains(key)) {
      m[key] = {{"logprob", Clamp(e->logprob)}, {"rank", nullptr},
                {"decoded_token", LogprobTokenString(ctx, req, e->token_id, e->token)}};
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace pagellm::server

namespace pagellm::server {

Json ChatLogprobs(const ServingContext& ctx, const CommonRequest& req,
                  const std::vector<TokenLogprob>& entries, int top_n) {
  auto entry = [&](int32_t id, const std::string& text, float lp) {
    std::string tok = LogprobTokenString(ctx, req, id, text);
    Json bytes = Json::array();
    for (unsigned char ch : tok) bytes.push_back(static_cast<int>(ch));
    return Json{{"token", tok}, {"logprob", Clamp(lp)}, {"bytes", bytes}};
  };
  Json content = Json::array();
  for (const auto& e : entries) {
    Json item = entry(e.token_id, e.token, e.logprob);
    Json top = Json::array();
    for (int i = 0; i < top_n && i < static_cast<int>(e.top.size()); ++i) {
      top.push_back(entry(e.top[i].token_id, e.top[i].token, e.top[i].logprob));
    }
    item["top_logprobs"] = std::move(top);
    content.push_back(std::move(item));
  }
  return {{"content", content}};
}

}  // namespace pagellm::server

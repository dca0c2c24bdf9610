// GenerationJob: one HTTP request that runs one engine request per prompt and relays the
// deltas. Subclasses render them (completions, chat, legacy /generate).
// Threading: everything but the engine callback runs on the exchange's strand; the callback
// only posts there. Lifetime: the engine's callback holds the job until its final delta.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "server/serving_context.h"

namespace pagellm::server {

class GenerationJob : public std::enable_shared_from_this<GenerationJob> {
 public:
  using Clock = std::chrono::steady_clock;

  GenerationJob(ServingContext& ctx, std::shared_ptr<HttpExchange> ex, CommonRequest common,
                std::string id);
  virtual ~GenerationJob() { --ctx_.live_jobs; }

  // Before Start(): one prompt (its token ids and, for echo, its text).
  void AddPrompt(std::vector<int32_t> ids, std::string text);
  void Start();

 protected:
  struct Choice {
    std::string text;
    std::vector<int32_t> token_ids;
    std::vector<TokenLogprob> logprobs;
    std::optional<std::string> finish_reason;
    Json stop_reason;  // null, a string, or a token id
    bool started = false;  // a chunk of this choice went out (echo goes with the first)
  };
  struct Prompt {
    std::string request_id;
    std::vector<int32_t> ids;
    std::string text;
    std::optional<std::vector<std::optional<TokenLogprob>>> prompt_logprobs;
    bool finished = false;
    bool got_token = false;
    Clock::time_point last_token;
  };

  virtual const char* content_type() const;
  // Streaming hooks: at the start, per choice delta (choice already updated), at the end.
  virtual void StreamBegin() {}
  virtual void StreamChoice(int flat_index, const ChoiceDelta& delta) = 0;
  virtual void StreamEnd();
  virtual Json BuildResponse() = 0;

  int n() const { return common_.sampling.n; }
  const Prompt& PromptOf(int flat_index) const { return prompts_[flat_index / n()]; }
  Json Usage() const;
  int64_t num_prompt_tokens() const;
  int64_t num_completion_tokens() const;
  void Write(std::string data) { ex_->Write(std::move(data)); }

  ServingContext& ctx_;
  std::shared_ptr<HttpExchange> ex_;
  CommonRequest common_;
  std::string id_;
  int64_t created_;
  std::vector<Prompt> prompts_;
  std::vector<Choice> choices_;

 private:
  void OnDelta(size_t p, RequestOutputDelta delta);
  void RecordTiming(Prompt& prompt, const RequestOutputDelta& d);
  void Finish();
  void Fail(const Status& status);
  void OnClientGone();
  void AbortAll();

  Clock::time_point arrival_;
  bool done_ = false;
  bool stream_begun_ = false;
  int num_unfinished_ = 0;
};

// Renders a token's TokenLogprob list in the completions format
// ({"tokens","token_logprobs","top_logprobs","text_offset"}), offsets from `text_offset`.
Json CompletionLogprobs(const ServingContext& ctx, const CommonRequest& req,
                        const std::vector<std::optional<TokenLogprob>>& entries,
                        int text_offset);
// vLLM's prompt_logprobs: [null, {"id": {"logprob", "rank", "decoded_token"}}, ...].
Json PromptLogprobsJson(const ServingContext& ctx, const CommonRequest& req,
                        const std::vector<std::optional<TokenLogprob>>& entries);

}  // namespace pagellm::server

namespace pagellm::server {
// The chat format: {"content": [{"token","logprob","bytes","top_logprobs":[...top_n]}]}.
Json ChatLogprobs(const ServingContext& ctx, const CommonRequest& req,
                  const std::vector<TokenLogprob>& entries, int top_n);
}  // namespace pagellm::server

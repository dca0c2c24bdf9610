#include "server/generation_job.h"

#include <ctime>

#include <boost/asio/post.hpp>

#include "base/logging.h"
#include "server/errors.h"
#include "server/sse.h"

namespace pagellm::server {

GenerationJob::GenerationJob(ServingContext& ctx, std::shared_ptr<HttpExchange> ex,
                             CommonRequest common, std::string id)
    : ctx_(ctx), ex_(std::move(ex)), common_(std::move(common)), id_(std::move(id)),
      created_(static_cast<int64_t>(std::time(nullptr))), arrival_(Clock::now()) {
  ++ctx_.live_jobs;
}

void GenerationJob::AddPrompt(std::vector<int32_t> ids, std::string text) {
  Prompt p;
  p.request_id = id_ + "-" + std::to_string(prompts_.size());
  p.ids = std::move(ids);
  p.text = std::move(text);
  prompts_.push_back(std::move(p));
}

const char* GenerationJob::content_type() const { return kSseContentType; }

void GenerationJob::Start() {
  choices_.resize(prompts_.size() * n());
  num_unfinished_ = static_cast<int>(prompts_.size());
  std::weak_ptr<GenerationJob> weak = shared_from_this();
  ex_->SetOnClose([weak] {
    if (auto job = weak.lock()) job->OnClientGone();
  });
  ctx_.metrics->AddPromptTokens(num_prompt_tokens());
  auto self = shared_from_this();
  auto executor = ex_->executor();
  for (size_t p = 0; p < prompts_.size() && !done_; ++p) {
    GenerateRequest req;
    req.request_id = prompts_[p].request_id;
    req.prompt_token_ids = prompts_[p].ids;
    req.sampling = common_.sampling;
    req.priority = common_.priority;
    req.arrival_time = arrival_;
    auto lifetime = ctx_.lifetime;
    Status st = ctx_.engine->Generate(
        std::move(req), [self, executor, lifetime, p](RequestOutputDelta d) {
          std::lock_guard<std::mutex> lock(lifetime->mu);
          if (!lifetime->alive) return;
          asio::post(executor, [self, p, d = std::move(d)]() mutable {
            self->OnDelta(p, std::move(d));
          });
        });
    if (!st.ok()) Fail(st);
  }
  // Deltas run on this strand only after Start returns, so the stream may begin after the
  // submissions: a request the engine refuses still gets a plain HTTP error.
  if (common_.stream && !done_) {
    ex_->BeginStream(200, content_type(), {});
    stream_begun_ = true;
    StreamBegin();
  }
  if (!ctx_.options.disable_log_requests) {
    LOG_INFO("request {}: {} prompt(s), {} prompt tokens, n={}, max_tokens={}, stream={}", id_,
             prompts_.size(), num_prompt_tokens(), n(), common_.sampling.max_tokens,
             common_.stream);
  }
}

void GenerationJob::RecordTiming(Prompt& prompt, const RequestOutputDelta& d) {
  int64_t new_tokens = 0;
  for (const auto& c : d.choices) new_tokens += static_cast<int64_t>(c.token_ids.size());
  if (new_tokens == 0) return;
  auto now = Clock::now();
  ctx_.metrics->AddGenerationTokens(new_tokens);
  if (!prompt.got_token) {
    ctx_.metrics->ObserveTtft(std::chrono::duration<double>(now - arrival_).count());
  } else {
    ctx_.metrics->ObserveItl(std::chrono::duration<double>(now - prompt.last_token).count());
  }
  prompt.got_token = true;
  prompt.last_token = now;
}

void GenerationJob::OnDelta(size_t p, RequestOutputDelta d) {
  if (done_) return;
  if (!d.error.ok()) return Fail(d.error);
  Prompt& prompt = prompts_[p];
  if (prompt.finished) return;
  RecordTiming(prompt, d);
  if (d.prompt_logprobs && !prompt.prompt_logprobs) prompt.prompt_logprobs = d.prompt_logprobs;
  for (const ChoiceDelta& cd : d.choices) {
    if (cd.index < 0 || cd.index >= n()) continue;  // a broken engine must not crash us
    int flat = static_cast<int>(p) * n() + cd.index;
    Choice& c = choices_[flat];
    if (c.finish_reason) continue;
    c.text += cd.text;
    c.token_ids.insert(c.token_ids.end(), cd.token_ids.begin(), cd.token_ids.end());
    c.logprobs.insert(c.logprobs.end(), cd.logprobs.begin(), cd.logprobs.end());
    if (cd.finish_reason) {
      c.finish_reason = cd.finish_reason;
      if (cd.stop_str) c.stop_reason = *cd.stop_str;
      else if (cd.stop_token_id) c.stop_reason = *cd.stop_token_id;
    }
    if (common_.stream) StreamChoice(flat, cd);
    c.started = true;
  }
  if (done_ || !d.finished) return;  // done_: the client went away while we wrote
  prompt.finished = true;
  ctx_.metrics->ObserveE2e(std::chrono::duration<double>(Clock::now() - arrival_).count());
  const Choice& first = choices_[p * n()];
  ctx_.metrics->RequestFinished(first.finish_reason.value_or("stop"));
  if (--num_unfinished_ == 0) Finish();
}

void GenerationJob::StreamEnd() {
  if (common_.include_usage) {
    Json chunk = {{"id", id_}, {"object", "text_completion"}, {"created", created_},
                  {"model", common_.model}, {"choices", Json::array()}, {"usage", Usage()}};
    Write(SseEvent(chunk));
  }
  Write(SseDone());
}

void GenerationJob::Finish() {
  done_ = true;
  if (common_.stream) {
    StreamEnd();
    ex_->EndStream();
  } else {
    RespondJson(*ex_, 200, BuildResponse());
  }
}

void GenerationJob::Fail(const Status& status) {
  if (done_) return;
  done_ = true;
  AbortAll();
  ctx_.metrics->RequestFinished("error");
  if (!stream_begun_) return RespondError(*ex_, status);
  // vLLM reports a mid-stream failure as one more event, then [DONE].
  Write("data: " + ErrorJson(status) + "\n\n");
  Write(SseDone());
  ex_->EndStream();
}

void GenerationJob::OnClientGone() {
  if (done_) return;
  done_ = true;
  AbortAll();
  ctx_.metrics->RequestFinished("abort");
  if (!ctx_.options.disable_log_requests) LOG_INFO("request {}: client gone, aborted", id_);
}

void GenerationJob::AbortAll() {
  for (const Prompt& p : prompts_) {
    if (!p.finished) ctx_.engine->Abort(p.request_id);
  }
}

int64_t GenerationJob::num_prompt_tokens() const {
  int64_t total = 0;
  for (const Prompt& p : prompts_) total += static_cast<int64_t>(p.ids.size());
  return total;
}

int64_t GenerationJob::num_completion_tokens() const {
  int64_t total = 0;
  for (const Choice& c : choices_) total += static_cast<int64_t>(c.token_ids.size());
  return total;
}

Json GenerationJob::Usage() const {
  int64_t prompt = num_prompt_tokens(), completion = num_completion_tokens();
  return {{"prompt_tokens", prompt}, {"total_tokens", prompt + completion},
          {"completion_tokens", completion}, {"prompt_tokens_details", nullptr}};
}

}  // namespace pagellm::server

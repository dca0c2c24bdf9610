#include "server/fake_engine_client.h"

#include <algorithm>

namespace pagellm::server {

FakeEngineClient::FakeEngineClient(FakeEngineOptions options) : options_(std::move(options)) {
  PAGELLM_CHECK(!options_.pattern.empty());
  thread_ = std::thread([this] { Loop(); });
}

FakeEngineClient::~FakeEngineClient() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

ModelInfo FakeEngineClient::GetModelInfo() const {
  ModelInfo info;
  info.served_model_names = options_.served_model_names;
  info.root = options_.served_model_names.empty() ? "fake" : options_.served_model_names[0];
  info.max_model_len = options_.max_model_len;
  info.max_logprobs = options_.max_logprobs;
  info.created = 1700000000;
  return info;
}

StatusOr<std::vector<int32_t>> FakeEngineClient::Encode(const std::string& text,
                                                        bool add_special_tokens) const {
  if (!options_.has_tokenizer) return FailedPreconditionError("no tokenizer");
  std::vector<int32_t> ids;
  if (add_special_tokens) ids.push_back(kBos);
  for (unsigned char ch : text) ids.push_back(ch);
  return ids;
}

std::string FakeEngineClient::TokenText(int32_t id) const {
  if (id >= 0 && id < 256) return std::string(1, static_cast<char>(id));
  if (id == kBos) return "<s>";
  if (id == kEos) return "</s>";
  return "<id:" + std::to_string(id) + ">";
}

StatusOr<std::string> FakeEngineClient::Decode(const std::vector<int32_t>& ids,
                                               bool skip_special_tokens) const {
  if (!options_.has_tokenizer) return FailedPreconditionError("no tokenizer");
  std::string out;
  for (int32_t id : ids) {
    if (id < 0) return InvalidArgumentError("token id " + std::to_string(id) + " is negative");
    if (skip_special_tokens && (id == kBos || id == kEos)) continue;
    out += TokenText(id);
  }
  return out;
}

StatusOr<std::string> FakeEngineClient::ApplyChatTemplate(const ChatTemplateRequest& req) const {
  if (!options_.has_tokenizer) return FailedPreconditionError("no tokenizer");
  std::string out;
  if (req.tools.is_array() && !req.tools.empty()) out += "<|tools|>" + req.tools.dump() + "\n";
  for (size_t i = 0; i < req.messages.size(); ++i) {
    const auto& m = req.messages[i];
    std::string content = m.contains("content") && m["content"].is_string()
                              ? m["content"].get<std::string>() : "";
    out += "<|" + m.value("role", std::string("user")) + "|>" + content;
    bool last = i + 1 == req.messages.size();
    if (!(last && req.continue_final_message)) out += "\n";
  }
  if (req.continue_final_message) {
    if (req.messages.empty() || req.messages.back().value("role", "") != "assistant") {
      return InvalidArgumentError("continue_final_message requires a final assistant message");
    }
  } else if (req.add_generation_prompt) {
    out += "<|assistant|>";
  }
  return out;
}

Status FakeEngineClient::Generate(GenerateRequest request, OutputCallback on_output) {
  if (!healthy_) return UnavailableError("engine is not ready");
  auto a = std::make_shared<Active>();
  a->choices.resize(std::max(1, request.sampling.n));
  a->request = std::move(request);
  a->callback = std::move(on_output);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return UnavailableError("engine is shutting down");
    if (!active_.emplace(a->request.request_id, a).second) {
      return InvalidArgumentError("duplicate request id " + a->request.request_id);
    }
  }
  ++num_requests_;
  cv_.notify_all();
  return OkStatus();
}

void FakeEngineClient::Abort(const std::string& request_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(request_id);
  if (it == active_.end()) return;
  it->second->aborted = true;
  aborted_.push_back(it->second);
  active_.erase(it);
  ++num_aborts_;
  cv_.notify_all();
}

EngineMetrics FakeEngineClient::GetMetrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineMetrics m;
  m.num_requests_running = static_cast<int>(active_.size());
  m.kv_cache_usage = std::min(1.0, active_.size() / 256.0);
  return m;
}

Status FakeEngineClient::CheckHealth() const {
  return healthy_ ? OkStatus() : UnavailableError("engine is loading");
}

int FakeEngineClient::num_in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(active_.size());
}

int32_t FakeEngineClient::TokenAt(const std::vector<int32_t>& prompt, int index,
                                  int position) const {
  uint64_t h = 7;
  for (int32_t id : prompt) h = h * 31 + static_cast<uint32_t>(id);
  size_t offset = (h + 11 * index) % options_.pattern.size();
  return static_cast<unsigned char>(options_.pattern[(offset + position) % options_.pattern.size()]);
}

std::string FakeEngineClient::ExpectedText(const std::vector<int32_t>& prompt, int index,
                                           int max_tokens) const {
  std::string out;
  for (int i = 0; i < max_tokens; ++i) out += TokenText(TokenAt(prompt, index, i));
  return out;
}

TokenLogprob FakeEngineClient::MakeLogprob(int32_t id, int k, int position) const {
  TokenLogprob lp;
  lp.token_id = id;
  lp.logprob = -0.125f * static_cast<float>(position % 4);
  lp.token = options_.has_tokenizer ? TokenText(id) : "";
  for (int j = 0; j < k; ++j) {
    TopLogprob t;
    t.token_id = j == 0 ? id : (id + j) % 256;
    t.logprob = j == 0 ? lp.logprob : lp.logprob - static_cast<float>(j);
    t.token = options_.has_tokenizer ? TokenText(t.token_id) : "";
    lp.top.push_back(std::move(t));
  }
  return lp;
}

void FakeEngineClient::StepChoice(Active& a, int c, ChoiceDelta& d) const {
  const RequestSampling& s = a.request.sampling;
  Choice& ch = a.choices[c];
  int32_t id = TokenAt(a.request.prompt_token_ids, c, ch.generated);
  ++ch.generated;
  d.token_ids.push_back(id);
  if (s.logprobs) d.logprobs.push_back(MakeLogprob(id, *s.logprobs, ch.generated - 1));
  if (s.detokenize && options_.has_tokenizer) ch.text += TokenText(id);
  bool past_min = ch.generated > s.min_tokens;
  if (past_min && std::find(s.stop_token_ids.begin(), s.stop_token_ids.end(), id) !=
                      s.stop_token_ids.end()) {
    ch.finished = true;
    d.finish_reason = "stop";
    d.stop_token_id = id;
  }
  if (!ch.finished && past_min && s.detokenize) {
    size_t best = std::string::npos;
    for (const auto& stop : s.stop) {
      size_t pos = stop.empty() ? std::string::npos : ch.text.find(stop);
      if (pos != std::string::npos && (best == std::string::npos || pos < best)) {
        best = pos;
        d.stop_str = stop;
      }
    }
    if (best != std::string::npos) {
      ch.text.resize(best + (s.include_stop_str_in_output ? d.stop_str->size() : 0));
      ch.finished = true;
      d.finish_reason = "stop";
    }
  }
  if (!ch.finished && ch.generated >= s.max_tokens) {
    ch.finished = true;
    d.finish_reason = "length";
  }
  size_t visible = ch.text.size();
  if (!ch.finished && !s.include_stop_str_in_output) {
    size_t hold = 0;
    for (const auto& stop : s.stop) hold = std::max(hold, stop.empty() ? 0 : stop.size() - 1);
    visible = ch.text.size() > hold ? ch.text.size() - hold : 0;
  }
  if (visible > ch.sent) {
    d.text = ch.text.substr(ch.sent, visible - ch.sent);
    ch.sent = visible;
  }
}

RequestOutputDelta FakeEngineClient::Step(Active& a) const {
  RequestOutputDelta out;
  out.request_id = a.request.request_id;
  out.num_prompt_tokens = static_cast<int>(a.request.prompt_token_ids.size());
  const RequestSampling& s = a.request.sampling;
  if (a.first && s.prompt_logprobs) {
    std::vector<std::optional<TokenLogprob>> pl;
    for (size_t i = 0; i < a.request.prompt_token_ids.size(); ++i) {
      if (i == 0) pl.push_back(std::nullopt);
      else pl.push_back(MakeLogprob(a.request.prompt_token_ids[i], *s.prompt_logprobs, i));
    }
    out.prompt_logprobs = std::move(pl);
  }
  a.first = false;
  bool all_done = true;
  for (int c = 0; c < static_cast<int>(a.choices.size()); ++c) {
    if (a.choices[c].finished) continue;
    ChoiceDelta d;
    d.index = c;
    StepChoice(a, c, d);
    all_done = all_done && a.choices[c].finished;
    out.choices.push_back(std::move(d));
  }
  out.finished = all_done;
  return out;
}

void FakeEngineClient::Loop() {
  for (;;) {
    std::vector<std::pair<std::shared_ptr<Active>, RequestOutputDelta>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !active_.empty() || !aborted_.empty(); });
      if (stop_) break;
      for (auto& a : aborted_) {
        RequestOutputDelta d;
        d.request_id = a->request.request_id;
        d.num_prompt_tokens = static_cast<int>(a->request.prompt_token_ids.size());
        for (int c = 0; c < static_cast<int>(a->choices.size()); ++c) {
          if (a->choices[c].finished) continue;
          ChoiceDelta cd;
          cd.index = c;
          cd.finish_reason = "abort";
          d.choices.push_back(std::move(cd));
        }
        d.finished = true;
        batch.emplace_back(a, std::move(d));
      }
      aborted_.clear();
      for (auto it = active_.begin(); it != active_.end();) {
        RequestOutputDelta d = Step(*it->second);
        batch.emplace_back(it->second, std::move(d));
        it = batch.back().second.finished ? active_.erase(it) : std::next(it);
      }
    }
    for (auto& [a, d] : batch) a->callback(std::move(d));
    if (options_.step_delay.count() > 0) std::this_thread::sleep_for(options_.step_delay);
  }
}

}  // namespace pagellm::server

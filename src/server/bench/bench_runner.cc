// Drives the benchmark's requests: arrivals, concurrency limit, SSE timing.
#include <chrono>
#include <deque>
#include <random>

#include <boost/asio/steady_timer.hpp>

#include "server/bench/bench_serve.h"
#include "server/bench/http_stream_client.h"

namespace pagellm::server::bench {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;

// Seconds from the start at which each request arrives (vLLM: gamma intervals with
// shape = burstiness and mean 1 / request_rate; all at once for an infinite rate).
std::vector<double> ArrivalTimes(const BenchServeConfig& c, size_t n) {
  std::vector<double> t(n, 0.0);
  if (!(c.request_rate > 0) || std::isinf(c.request_rate)) return t;
  std::mt19937_64 rng(c.seed + 1);
  std::gamma_distribution<double> gap(c.burstiness, 1.0 / (c.request_rate * c.burstiness));
  double now = 0;
  for (size_t i = 0; i < n; ++i) {
    t[i] = now;
    now += gap(rng);
  }
  return t;
}

class Runner {
 public:
  Runner(const BenchServeConfig& c, const std::vector<BenchItem>& items)
      : c_(c), items_(items), outcomes_(items.size()), timer_(ioc_) {
    chat_ = c.backend == "openai-chat";
    endpoint_ = !c.endpoint.empty() ? c.endpoint : chat_ ? "/v1/chat/completions" : "/v1/completions";
  }

  std::vector<RequestOutcome> Run(double* duration_s) {
    arrivals_ = ArrivalTimes(c_, items_.size());
    start_ = Clock::now();
    ScheduleArrivals();
    ioc_.run();
    *duration_s = std::chrono::duration<double>(Clock::now() - start_).count();
    return std::move(outcomes_);
  }

 private:
  std::string Body(const BenchItem& item) const {
    Json body = {{"model", c_.model}, {"stream", true}, {"temperature", 0.0},
                 {"stream_options", {{"include_usage", true}}}, {"ignore_eos", c_.ignore_eos}};
    if (chat_) {
      body["messages"] = Json::array({{{"role", "user"}, {"content", item.prompt}}});
      body["max_completion_tokens"] = item.max_tokens;
    } else {
      if (item.prompt_token_ids.empty()) body["prompt"] = item.prompt;
      else body["prompt"] = item.prompt_token_ids;
      body["max_tokens"] = item.max_tokens;
    }
    return body.dump();
  }

  void ScheduleArrivals() {
    auto elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    while (next_arrival_ < items_.size() && arrivals_[next_arrival_] <= elapsed) {
      ready_.push_back(next_arrival_++);
    }
    TryStart();
    if (next_arrival_ < items_.size()) {
      timer_.expires_at(start_ + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(arrivals_[next_arrival_])));
      timer_.async_wait([this](const boost::system::error_code&) { ScheduleArrivals(); });
    }
  }

  void TryStart() {
    while (!ready_.empty() && (c_.max_concurrency <= 0 || in_flight_ < c_.max_concurrency)) {
      size_t i = ready_.front();
      ready_.pop_front();
      Start(i);
    }
  }

  void Start(size_t i) {
    ++in_flight_;
    struct State {
      Clock::time_point start = Clock::now(), last;
      int http_status = 0;
      SseParser sse;
      std::string error_body;
      int ids_seen = 0;
    };
    auto st = std::make_shared<State>();
    outcomes_[i].prompt_len = items_[i].prompt_len;
    HttpCall call{c_.host, c_.port, "POST", endpoint_, Body(items_[i]), {}};
    if (!c_.api_key.empty()) call.headers.emplace_back("Authorization", "Bearer " + c_.api_key);
    HttpCallbacks cb;
    cb.on_headers = [st](int s) { st->http_status = s; };
    cb.on_data = [this, st, i](std::string_view piece) {
      if (st->http_status != 200) return void(st->error_body.append(piece));
      for (const std::string& ev : st->sse.Feed(piece)) OnEvent(i, *st, ev);
    };
    cb.on_done = [this, st, i](Status s) {
      RequestOutcome& o = outcomes_[i];
      if (!s.ok()) o.error = s.ToString();
      else if (st->http_status != 200) o.error = "HTTP " + std::to_string(st->http_status) + ": " + st->error_body;
      o.success = o.error.empty();
      if (o.output_tokens == 0) o.output_tokens = std::max(st->ids_seen, o.num_content_chunks);
      o.latency = std::chrono::duration<double>(st->last - st->start).count();
      --in_flight_;
      TryStart();
    };
    StartHttpCall(ioc_, std::move(call), std::move(cb));
  }

  template <typename State>
  void OnEvent(size_t i, State& st, const std::string& payload) {
    if (payload == "[DONE]") return;
    RequestOutcome& o = outcomes_[i];
    Json j = Json::parse(payload, nullptr, false);
    if (j.is_discarded()) return void(o.error = "bad SSE payload");
    if (j.contains("error")) return void(o.error = j["error"].dump());
    if (j.contains("usage") && j["usage"].is_object()) {
      o.output_tokens = j["usage"].value("completion_tokens", 0);
      o.prompt_len = j["usage"].value("prompt_tokens", o.prompt_len);
    }
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) return;
    const Json& ch = j["choices"][0];
    std::string text;
    if (chat_ && ch.contains("delta") && ch["delta"].contains("content") &&
        ch["delta"]["content"].is_string()) {
      text = ch["delta"]["content"].get<std::string>();
    } else if (!chat_ && ch.contains("text") && ch["text"].is_string()) {
      text = ch["text"].get<std::string>();
    }
    int ids = ch.contains("token_ids") && ch["token_ids"].is_array()
                  ? static_cast<int>(ch["token_ids"].size()) : 0;
    if (text.empty() && ids == 0) return;
    auto now = Clock::now();
    if (o.num_content_chunks == 0) o.ttft = std::chrono::duration<double>(now - st.start).count();
    else o.itl.push_back(std::chrono::duration<double>(now - st.last).count());
    st.last = now;
    st.ids_seen += ids;
    ++o.num_content_chunks;
    o.generated_text += text;
  }

  const BenchServeConfig& c_;
  const std::vector<BenchItem>& items_;
  std::vector<RequestOutcome> outcomes_;
  asio::io_context ioc_;
  asio::steady_timer timer_;
  bool chat_ = false;
  std::string endpoint_;
  std::vector<double> arrivals_;
  size_t next_arrival_ = 0;
  std::deque<size_t> ready_;
  int in_flight_ = 0;
  Clock::time_point start_;
};

}  // namespace

std::vector<RequestOutcome> RunBenchmark(const BenchServeConfig& config,
                                         const std::vector<BenchItem>& items,
                                         double* duration_s) {
  Runner runner(config, items);
  return runner.Run(duration_s);
}

StatusOr<std::string> FetchModelName(const BenchServeConfig& c) {
  asio::io_context ioc;
  std::string body;
  int status = 0;
  Status result;
  HttpCall call{c.host, c.port, "GET", "/v1/models", "", {}};
  if (!c.api_key.empty()) call.headers.emplace_back("Authorization", "Bearer " + c.api_key);
  StartHttpCall(ioc, call, {[&](int s) { status = s; },
                            [&](std::string_view p) { body.append(p); },
                            [&](Status s) { result = s; }});
  ioc.run();
  RETURN_IF_ERROR(result);
  Json j = Json::parse(body, nullptr, false);
  if (status != 200 || j.is_discarded() || !j.contains("data") || !j["data"].is_array() ||
      j["data"].empty() || !j["data"][0].contains("id")) {
    return UnavailableError("GET /v1/models: HTTP " + std::to_string(status) + " " + body);
  }
  return j["data"][0]["id"].get<std::string>();
}

}  // namespace pagellm::server::bench

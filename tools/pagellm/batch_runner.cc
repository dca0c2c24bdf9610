#include "tools/pagellm/batch_runner.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "server/errors.h"
#include "server/metrics.h"
#include "server/serving.h"

namespace pagellm::cli {
namespace {

using server::Json;
using OJson = nlohmann::ordered_json;
namespace asio = boost::asio;

// One output slot per non-blank input line, filled in any order, written in order.
class OrderedResults {
 public:
  explicit OrderedResults(std::function<void(const OJson&)> emit) : emit_(std::move(emit)) {}
  void Put(size_t index, OJson line) {
    ready_[index] = std::move(line);
    while (!ready_.empty() && ready_.begin()->first == next_) {
      emit_(ready_.begin()->second);
      ready_.erase(ready_.begin());
      ++next_;
    }
  }

 private:
  std::function<void(const OJson&)> emit_;
  std::map<size_t, OJson> ready_;
  size_t next_ = 0;
};

std::string RandomHex(std::mt19937_64& rng) {
  return fmt::format("{:016x}{:08x}", rng(), static_cast<uint32_t>(rng()));
}

// The output line for an HTTP status and body (`body` is the endpoint's JSON text).
OJson MakeOutputLine(std::mt19937_64& rng, const Json& custom_id, int status,
                     const std::string& body_text) {
  OJson body = OJson::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) body = body_text;  // never happens with our handlers
  std::string request_id;
  if (body.is_object() && body.contains("id") && body["id"].is_string()) {
    request_id = body["id"].get<std::string>();
  } else {
    request_id = "batch_req-" + RandomHex(rng);
  }
  OJson error = nullptr;
  if (status != 200) {
    error = (body.is_object() && body.contains("error")) ? body["error"] : OJson(body_text);
  }
  return OJson{{"id", "batch_req_" + RandomHex(rng)},
               {"custom_id", OJson::parse(custom_id.dump())},
               {"response", {{"status_code", status}, {"request_id", request_id}, {"body", body}}},
               {"error", error}};
}

// An HttpExchange that keeps the response in memory. Everything runs on the one thread that
// runs the io_context, so no strand is needed.
class BatchExchange : public server::HttpExchange {
 public:
  using OnDone = std::function<void(int status, const std::string& body)>;
  BatchExchange(server::HttpRequest request, asio::any_io_executor executor, OnDone on_done)
      : request_(std::move(request)), executor_(std::move(executor)),
        on_done_(std::move(on_done)) {}

  const server::HttpRequest& request() const override { return request_; }
  asio::any_io_executor executor() const override { return executor_; }
  void Respond(server::HttpResponse response) override {
    Done(response.status, response.body);
  }
  // Streams never start (stream requests are refused before routing); keep them harmless.
  void BeginStream(int status, const std::string&, server::Headers) override { status_ = status; }
  void Write(std::string data) override { streamed_ += data; }
  void EndStream() override { Done(status_, streamed_); }
  bool closed() const override { return done_; }
  void SetOnClose(std::function<void()>) override {}

 private:
  void Done(int status, const std::string& body) {
    if (done_) return;
    done_ = true;
    on_done_(status, body);
  }

  server::HttpRequest request_;
  asio::any_io_executor executor_;
  OnDone on_done_;
  bool done_ = false;
  int status_ = 200;
  std::string streamed_;
};

struct ParsedLine {
  Json custom_id;  // null when the line has none
  std::string url;
  Json body;
};

// Line-level checks (everything the endpoint itself cannot judge). Fills `custom_id` as soon
// as it is known, so an error line still names its request.
Status ParseLine(const std::string& text, ParsedLine* out) {
  Json line = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (line.is_discarded() || !line.is_object()) {
    return InvalidArgumentError("invalid batch line: not a JSON object");
  }
  if (line.contains("custom_id")) out->custom_id = line["custom_id"];
  if (!out->custom_id.is_string()) {
    return InvalidArgumentError("invalid batch line: 'custom_id' must be a string");
  }
  if (!line.contains("method") || line["method"] != "POST") {
    return InvalidArgumentError("invalid batch line: 'method' must be \"POST\"");
  }
  if (!line.contains("url") || !line["url"].is_string()) {
    return InvalidArgumentError("invalid batch line: 'url' must be a string");
  }
  out->url = line["url"].get<std::string>();
  if (out->url != "/v1/completions" && out->url != "/v1/chat/completions") {
    return InvalidArgumentError("URL " + out->url +
                                " was used. Supported endpoints: /v1/completions, "
                                "/v1/chat/completions");
  }
  if (!line.contains("body") || !line["body"].is_object()) {
    return InvalidArgumentError("invalid batch line: 'body' must be a JSON object");
  }
  out->body = std::move(line["body"]);
  if (out->body.contains("stream") && out->body["stream"] == true) {
    return InvalidArgumentError("Request must not be sent in stream mode");
  }
  return OkStatus();
}

}  // namespace

BatchSummary RunBatch(server::EngineClient& engine, const std::vector<std::string>& lines,
                      const BatchOptions& options,
                      const std::function<void(const OJson&)>& emit) {
  server::ServingContext ctx;
  ctx.engine = &engine;
  ctx.options.disable_log_requests = options.disable_log_requests;
  ctx.options.return_tokens_as_token_ids = options.return_tokens_as_token_ids;
  ctx.model = engine.GetModelInfo();
  if (ctx.model.served_model_names.empty()) ctx.model.served_model_names = {"default"};
  server::ServerMetrics metrics(ctx.model.served_model_names[0]);
  ctx.metrics = &metrics;

  asio::io_context ioc;
  auto work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      ioc.get_executor());
  std::mt19937_64 rng{std::random_device{}()};
  BatchSummary summary;
  OrderedResults results(emit);
  size_t pending = 0;
  auto record = [&](size_t index, const Json& custom_id, int status, const std::string& body) {
    (status == 200 ? summary.num_ok : summary.num_failed)++;
    results.Put(index, MakeOutputLine(rng, custom_id, status, body));
  };

  std::vector<std::shared_ptr<BatchExchange>> exchanges;
  for (const std::string& text : lines) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    size_t index = summary.num_lines++;
    ParsedLine parsed;
    if (Status st = ParseLine(text, &parsed); !st.ok()) {
      record(index, parsed.custom_id, 400, server::ErrorJson(400, st.message()));
      continue;
    }
    server::HttpRequest req;
    req.method = "POST";
    req.target = req.path = parsed.url;
    req.headers = {{"content-type", "application/json"}};
    req.body = parsed.body.dump();
    ++pending;
    exchanges.push_back(std::make_shared<BatchExchange>(
        std::move(req), ioc.get_executor(),
        [&, index, custom_id = parsed.custom_id](int status, const std::string& body) {
          record(index, custom_id, status, body);
          if (--pending == 0) work.reset();
        }));
  }
  // Route every request before running the loop: all of them reach the engine at once.
  for (auto& ex : exchanges) server::Route(ctx, ex);
  if (pending == 0) work.reset();
  ioc.run();
  // The engine thread may still hold a finished job for a moment (its callback is dropped
  // after the final delta); jobs refer to `ctx`, so wait for them as ApiServer::Wait does.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ctx.live_jobs > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::lock_guard<std::mutex> lock(ctx.lifetime->mu);
  ctx.lifetime->alive = false;  // late engine callbacks stop here
  return summary;
}

}  // namespace pagellm::cli

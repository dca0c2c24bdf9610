#include "server/api_server.h"

#include <csignal>
#include <thread>

#include <boost/asio/signal_set.hpp>

#include "base/logging.h"
#include "server/serving.h"

namespace pagellm::server {

struct ApiServer::Signals {
  explicit Signals(asio::io_context& ioc) : set(ioc, SIGINT, SIGTERM) {}
  asio::signal_set set;
};

ApiServer::ApiServer(ApiServerOptions options, EngineClient* engine)
    : options_(std::move(options)) {
  ctx_ = std::make_unique<ServingContext>();
  ctx_->engine = engine;
  ctx_->options = options_.serving;
  ctx_->model = engine->GetModelInfo();
  if (ctx_->model.served_model_names.empty()) ctx_->model.served_model_names = {"default"};
  metrics_ = std::make_unique<ServerMetrics>(ctx_->model.served_model_names[0]);
  ctx_->metrics = metrics_.get();
  ServingContext* ctx = ctx_.get();
  http_ = std::make_unique<HttpServer>(
      options_.http, [ctx](std::shared_ptr<HttpExchange> ex) { Route(*ctx, std::move(ex)); });
}

ApiServer::~ApiServer() {
  if (started_) Shutdown();
  signals_.reset();
  http_.reset();
}

StatusOr<int> ApiServer::Start() {
  ASSIGN_OR_RETURN(int port, http_->Listen());
  http_->Start();
  started_ = true;
  return port;
}

void ApiServer::HandleSignals() {
  signals_ = std::make_unique<Signals>(http_->io_context());
  signals_->set.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    LOG_INFO("signal {}: shutting down", sig);
    RequestShutdown();
  });
}

void ApiServer::RequestShutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_requested_) return;
    shutdown_requested_ = true;
  }
  ctx_->draining = true;
  http_->StopAccepting();
  cv_.notify_all();
}

void ApiServer::Wait() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return shutdown_requested_; });
    if (stopped_) return;
    stopped_ = true;
  }
  auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  while (http_->num_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (int left = http_->num_in_flight(); left > 0) {
    LOG_INFO("shutdown: aborting {} in-flight request(s)", left);
  }
  http_->CloseAll();  // fires on-close → EngineClient::Abort for what is left
  // Jobs live in engine callbacks until their final delta; they hold sockets of this
  // io_context, so let the engine release them before the io_context goes away.
  auto release_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (ctx_->live_jobs > 0 && std::chrono::steady_clock::now() < release_deadline);
  if (ctx_->live_jobs > 0) LOG_WARN("shutdown: {} request(s) still held by the engine", ctx_->live_jobs.load());
  {
    std::lock_guard<std::mutex> lock(ctx_->lifetime->mu);
    ctx_->lifetime->alive = false;  // late engine callbacks stop here
  }
  if (signals_) {
    boost::system::error_code ec;
    signals_->set.cancel(ec);
  }
  http_->Stop();
  started_ = false;
}

void ApiServer::Shutdown() {
  RequestShutdown();
  Wait();
}

}  // namespace pagellm::server

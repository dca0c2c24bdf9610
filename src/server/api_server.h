// ApiServer: the OpenAI-compatible HTTP server over an EngineClient.
// Usage: ApiServer s(opts, &engine); auto port = s.Start(); s.HandleSignals(); s.Wait();
// Thread-safety: RequestShutdown() may be called from any thread; the rest from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "server/http_server.h"
#include "server/metrics.h"
#include "server/serving_context.h"

namespace pagellm::server {

struct ApiServerOptions {
  HttpServerOptions http;
  ServingOptions serving;
  // On shutdown, in-flight requests get this long to finish before they are aborted.
  std::chrono::milliseconds shutdown_grace{10000};
};

class ApiServer {
 public:
  // REQUIRES: `engine` outlives this object.
  ApiServer(ApiServerOptions options, EngineClient* engine);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts the I/O threads; returns the bound port (useful with port 0).
  StatusOr<int> Start();
  // SIGINT/SIGTERM request a shutdown.
  void HandleSignals();
  // Non-blocking: new requests get 503, the listener closes; Wait() does the rest.
  void RequestShutdown();
  // Blocks until a shutdown is requested, then drains (up to shutdown_grace), aborts what is
  // left, closes every connection and stops the I/O threads.
  void Wait();
  // RequestShutdown() + Wait().
  void Shutdown();

  int num_in_flight() const { return http_->num_in_flight(); }
  ServerMetrics& metrics() { return *metrics_; }

 private:
  ApiServerOptions options_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<ServingContext> ctx_;
  std::unique_ptr<HttpServer> http_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_requested_ = false;
  bool stopped_ = false;
  bool started_ = false;
  struct Signals;
  std::unique_ptr<Signals> signals_;
};

}  // namespace pagellm::server

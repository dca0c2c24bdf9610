// Asynchronous HTTP/1.1 transport on Boost.Asio/Beast: a few I/O threads, one strand per
// connection, keep-alive, chunked streaming responses, body-size limit, CORS headers, and
// prompt disconnect detection (a read stays armed while a request is in flight, so a client
// that goes away fires the exchange's on-close callback at once).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "base/status.h"

namespace pagellm::server {

namespace asio = boost::asio;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;     // "GET", "POST", ...
  std::string target;     // as sent
  std::string path;       // target without the query
  Headers headers;        // names lower-cased
  std::string body;
  int version = 11;       // 10 or 11
  // Empty when absent.
  std::string Header(const std::string& lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
};

// One request and its response. REQUIRES: every method runs on executor() (the connection's
// strand); use asio::post(exchange->executor(), ...) from other threads. Calls after the
// response ended or the client disconnected are ignored.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual const HttpRequest& request() const = 0;
  virtual asio::any_io_executor executor() const = 0;
  virtual void Respond(HttpResponse response) = 0;
  virtual void BeginStream(int status, const std::string& content_type, Headers headers) = 0;
  virtual void Write(std::string data) = 0;  // one chunk of a stream
  virtual void EndStream() = 0;
  virtual bool closed() const = 0;
  // Runs once (on the strand) if the client disconnects before the response ends.
  virtual void SetOnClose(std::function<void()> on_close) = 0;
};

using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8000;                       // 0: ephemeral
  int io_threads = 2;
  size_t max_body_bytes = 32u << 20;
  std::vector<std::string> allowed_origins = {"*"};
  std::chrono::seconds idle_timeout{60};  // keep-alive idle and request-read limit
  size_t max_pending_write_bytes = 64u << 20;  // a client this far behind is dropped
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the bound port. Then Run() serves.
  StatusOr<int> Listen();
  // Starts the I/O threads (non-blocking).
  void Start();
  void StopAccepting();
  // Closes every connection (in-flight exchanges get their on-close callback).
  void CloseAll();
  // Stops the io_context and joins the I/O threads.
  void Stop();
  int num_in_flight() const { return in_flight_->load(); }
  asio::io_context& io_context() { return ioc_; }

 private:
  class Impl;
  HttpServerOptions options_;
  HttpHandler handler_;
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
  asio::io_context ioc_;
  std::unique_ptr<Impl> impl_;  // after the members it refers to
  std::vector<std::thread> threads_;
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::unique_ptr<WorkGuard> work_;
};

// Formats a complete HTTP/1.1 response (status line, headers, body).
std::string FormatResponse(const HttpResponse& r, bool keep_alive, const Headers& extra);

}  // namespace pagellm::server

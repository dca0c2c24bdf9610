// One HTTP connection (internal to http_server.cc). See http_server.h for the contract.
#pragma once

#include <deque>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/http_server.h"

namespace pagellm::server {

namespace beast = boost::beast;
namespace http = boost::beast::http;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(asio::ip::tcp::socket socket, const HttpServerOptions& options,
              const HttpHandler& handler, std::shared_ptr<std::atomic<int>> in_flight);
  ~HttpSession();
  void Start();
  void Close();  // on the strand

  asio::any_io_executor executor() { return stream_.get_executor(); }

  // Exchange operations, keyed by request serial: stale calls are ignored.
  void Respond(uint64_t serial, HttpResponse response);
  void BeginStream(uint64_t serial, int status, const std::string& content_type, Headers h);
  void Write(uint64_t serial, std::string data);
  void EndStream(uint64_t serial);
  bool Live(uint64_t serial) const { return !closed_ && in_request_ && serial == serial_; }
  void SetOnClose(uint64_t serial, std::function<void()> cb);

 private:
  void DoRead();
  void OnRead(beast::error_code ec);
  void Dispatch();
  void SendErrorAndClose(int status, const std::string& message);
  void StartProbe();
  void OnProbe(beast::error_code ec, size_t n);
  void Enqueue(std::string data);
  void DoWrite();
  void OnWrite(beast::error_code ec);
  void FinishResponse();
  void EndRequest();
  Headers CorsHeaders() const;

  beast::tcp_stream stream_;
  const HttpServerOptions& options_;
  const HttpHandler& handler_;
  std::shared_ptr<std::atomic<int>> in_flight_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpRequest> request_;
  uint64_t serial_ = 0;
  bool in_request_ = false;     // a request is dispatched and its response not yet written
  bool response_done_ = false;  // the whole response is queued
  bool streaming_ = false;
  bool chunked_ = false;
  bool keep_alive_ = true;
  bool probing_ = false;
  bool want_read_ = false;
  bool writing_ = false;
  bool closed_ = false;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  std::string write_buf_;
  std::function<void()> on_close_;
};

}  // namespace pagellm::server

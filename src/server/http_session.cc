#include "server/http_session.h"

#include <algorithm>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "base/logging.h"
#include "server/errors.h"

namespace pagellm::server {
namespace {

class ExchangeImpl : public HttpExchange {
 public:
  ExchangeImpl(std::shared_ptr<HttpSession> s, uint64_t serial, std::shared_ptr<HttpRequest> r)
      : session_(std::move(s)), serial_(serial), request_(std::move(r)) {}
  const HttpRequest& request() const override { return *request_; }
  asio::any_io_executor executor() const override { return session_->executor(); }
  void Respond(HttpResponse r) override { session_->Respond(serial_, std::move(r)); }
  void BeginStream(int status, const std::string& ct, Headers h) override {
    session_->BeginStream(serial_, status, ct, std::move(h));
  }
  void Write(std::string data) override { session_->Write(serial_, std::move(data)); }
  void EndStream() override { session_->EndStream(serial_); }
  bool closed() const override { return !session_->Live(serial_); }
  void SetOnClose(std::function<void()> cb) override {
    session_->SetOnClose(serial_, std::move(cb));
  }

 private:
  std::shared_ptr<HttpSession> session_;
  uint64_t serial_;
  std::shared_ptr<HttpRequest> request_;
};

}  // namespace

std::string HttpRequest::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return "";
}

std::string FormatResponse(const HttpResponse& r, bool keep_alive, const Headers& extra) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, ReasonPhrase(r.status));
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  out += fmt::format("Content-Length: {}\r\n", r.body.size());
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  for (const auto& [k, v] : extra) out += k + ": " + v + "\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

HttpSession::HttpSession(asio::ip::tcp::socket socket, const HttpServerOptions& options,
                         const HttpHandler& handler, std::shared_ptr<std::atomic<int>> in_flight)
    : stream_(std::move(socket)), options_(options), handler_(handler),
      in_flight_(std::move(in_flight)) {}

HttpSession::~HttpSession() {
  if (in_request_) --*in_flight_;
}

void HttpSession::Start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void HttpSession::DoRead() {
  want_read_ = false;
  if (closed_) return;
  parser_.emplace();
  parser_->body_limit(options_.max_body_bytes);
  parser_->header_limit(64 * 1024);
  stream_.expires_after(options_.idle_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void HttpSession::OnRead(beast::error_code ec) {
  if (closed_) return;
  if (ec == http::error::body_limit) {
    return SendErrorAndClose(413, fmt::format("request body exceeds the limit of {} bytes",
                                              options_.max_body_bytes));
  }
  if (ec == http::error::header_limit) return SendErrorAndClose(431, "request headers too large");
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted) {
    return Close();
  }
  if (ec) {
    // A malformed request: answer 400 if the socket still works, then close.
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      return SendErrorAndClose(400, "malformed HTTP request: " + ec.message());
    }
    return Close();
  }
  Dispatch();
}

void HttpSession::Dispatch() {
  auto msg = parser_->release();
  auto req = std::make_shared<HttpRequest>();
  req->method = std::string(msg.method_string());
  req->target = std::string(msg.target());
  req->path = req->target.substr(0, req->target.find('?'));
  req->version = msg.version();
  for (const auto& f : msg) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    req->headers.emplace_back(std::move(name), std::string(f.value()));
  }
  req->body = std::move(msg.body());
  keep_alive_ = msg.keep_alive();
  request_ = req;
  ++serial_;
  in_request_ = true;
  ++*in_flight_;
  response_done_ = streaming_ = chunked_ = false;
  stream_.expires_never();
  StartProbe();
  auto exchange = std::make_shared<ExchangeImpl>(shared_from_this(), serial_, req);
  try {
    handler_(exchange);
  } catch (const std::exception& e) {
    LOG_ERROR("handler threw: {}", e.what());
    Respond(serial_, HttpResponse{500, "application/json", ErrorJson(500, "internal error"), {}});
  }
}

void HttpSession::SendErrorAndClose(int status, const std::string& message) {
  keep_alive_ = false;
  HttpResponse r{status, "application/json", ErrorJson(status, message), {}};
  response_done_ = true;
  Enqueue(FormatResponse(r, false, CorsHeaders()));
}

void HttpSession::StartProbe() {
  if (probing_ || closed_) return;
  probing_ = true;
  stream_.socket().async_read_some(
      buffer_.prepare(4096),
      [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnProbe(ec, n); });
}

void HttpSession::OnProbe(beast::error_code ec, size_t n) {
  probing_ = false;
  if (closed_) return;
  if (ec == asio::error::operation_aborted && want_read_) return DoRead();
  if (ec) return Close();  // the client went away
  buffer_.commit(n);
  if (!in_request_) return DoRead();
  // Pipelined bytes wait in buffer_; stop probing when a client floods us meanwhile.
  if (buffer_.size() < 1024 * 1024) StartProbe();
}

Headers HttpSession::CorsHeaders() const {
  Headers h;
  if (options_.allowed_origins.empty() || !request_) return h;
  std::string origin = request_->Header("origin");
  if (origin.empty()) return h;
  const auto& allowed = options_.allowed_origins;
  if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) {
    h.emplace_back("Access-Control-Allow-Origin", "*");
  } else if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
    h.emplace_back("Access-Control-Allow-Origin", origin);
    h.emplace_back("Vary", "Origin");
  }
  return h;
}

void HttpSession::Respond(uint64_t serial, HttpResponse response) {
  if (!Live(serial) || streaming_ || response_done_) return;
  if (request_->version < 11) keep_alive_ = false;
  response_done_ = true;
  Enqueue(FormatResponse(response, keep_alive_, CorsHeaders()));
}

void HttpSession::BeginStream(uint64_t serial, int status, const std::string& content_type,
                              Headers h) {
  if (!Live(serial) || streaming_ || response_done_) return;
  streaming_ = true;
  chunked_ = request_->version >= 11;
  if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the end of the body is the close
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\n", status,
                                ReasonPhrase(status), content_type);
  if (chunked_) out += "Transfer-Encoding: chunked\r\n";
  out += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "Cache-Control: no-cache\r\n";
  for (const auto& [k, v] : h) out += k + ": " + v + "\r\n";
  for (const auto& [k, v] : CorsHeaders()) out += k + ": " + v + "\r\n";
  out += "\r\n";
  Enqueue(std::move(out));
}

void HttpSession::Write(uint64_t serial, std::string data) {
  if (!Live(serial) || !streaming_ || response_done_ || data.empty()) return;
  if (chunked_) data = fmt::format("{:x}\r\n", data.size()) + data + "\r\n";
  Enqueue(std::move(data));
}

void HttpSession::EndStream(uint64_t serial) {
  if (!Live(serial) || !streaming_ || response_done_) return;
  response_done_ = true;
  Enqueue(chunked_ ? std::string("0\r\n\r\n") : std::string());
}

void HttpSession::SetOnClose(uint64_t serial, std::function<void()> cb) {
  if (Live(serial)) on_close_ = std::move(cb);
}

void HttpSession::Enqueue(std::string data) {
  if (closed_) return;
  out_bytes_ += data.size();
  out_.push_back(std::move(data));
  if (out_bytes_ > options_.max_pending_write_bytes) {
    LOG_WARN("dropping a client that is {} bytes behind", out_bytes_);
    return Close();
  }
  if (!writing_) DoWrite();
}

void HttpSession::DoWrite() {
  write_buf_.clear();
  while (!out_.empty()) {
    write_buf_ += out_.front();
    out_.pop_front();
  }
  out_bytes_ = 0;
  if (write_buf_.empty()) return OnWrite({});
  writing_ = true;
  asio::async_write(stream_, asio::buffer(write_buf_),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->writing_ = false;
                      self->OnWrite(ec);
                    });
}

void HttpSession::OnWrite(beast::error_code ec) {
  if (closed_) return;
  if (ec) return Close();
  if (!out_.empty()) return DoWrite();
  if (response_done_ && in_request_) FinishResponse();
  else if (response_done_ && !keep_alive_) Close();
}

void HttpSession::EndRequest() {
  if (!in_request_) return;
  in_request_ = false;
  --*in_flight_;
  on_close_ = nullptr;
}

void HttpSession::FinishResponse() {
  EndRequest();
  if (!keep_alive_) return Close();
  if (probing_) {
    want_read_ = true;
    beast::error_code ec;
    stream_.socket().cancel(ec);
  } else {
    DoRead();
  }
}

void HttpSession::Close() {
  if (closed_) return;
  closed_ = true;
  auto cb = std::move(on_close_);
  on_close_ = nullptr;
  bool was_in_request = in_request_;
  EndRequest();
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.close();
  if (was_in_request && cb) cb();
}

}  // namespace pagellm::server

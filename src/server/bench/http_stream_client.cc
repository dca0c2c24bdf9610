#include "server/bench/http_stream_client.h"

#include <limits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace pagellm::server::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

class Call : public HttpCallHandle, public std::enable_shared_from_this<Call> {
 public:
  Call(asio::io_context& ioc, HttpCall call, HttpCallbacks cb)
      : resolver_(asio::make_strand(ioc)), stream_(resolver_.get_executor()),
        call_(std::move(call)), cb_(std::move(cb)) {}

  void Run() {
    resolver_.async_resolve(call_.host, std::to_string(call_.port),
                            [self = shared_from_this()](beast::error_code ec, auto results) {
                              if (ec) return self->Done(ec, "resolve");
                              self->stream_.async_connect(
                                  results, [self](beast::error_code ec, auto) { self->OnConnect(ec); });
                            });
  }

  void Cancel() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->cancelled_ = true;
      beast::error_code ec;
      self->stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

 private:
  void OnConnect(beast::error_code ec) {
    if (ec) return Done(ec, "connect");
    beast::error_code ignored;
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    req_.method_string(call_.method);
    req_.target(call_.target);
    req_.version(11);
    req_.set(http::field::host, call_.host);
    req_.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : call_.headers) req_.set(k, v);
    req_.body() = call_.body;
    req_.prepare_payload();
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Done(ec, "write");
      self->parser_.body_limit(std::numeric_limits<std::uint64_t>::max());  // none is broken in 1.74
      http::async_read_header(self->stream_, self->buffer_, self->parser_,
                              [self](beast::error_code ec, size_t) { self->OnHeader(ec); });
    });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return Done(ec, "read header");
    if (cb_.on_headers) cb_.on_headers(parser_.get().result_int());
    ReadBody();
  }

  void ReadBody() {
    if (parser_.is_done()) return Done({}, "");
    parser_.get().body().data = chunk_;
    parser_.get().body().size = sizeof(chunk_);
    http::async_read_some(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::need_buffer) ec = {};
                       if (ec) return self->Done(ec, "read body");
                       size_t n = sizeof(self->chunk_) - self->parser_.get().body().size;
                       if (n > 0 && self->cb_.on_data) {
                         self->cb_.on_data(std::string_view(self->chunk_, n));
                       }
                       self->ReadBody();
                     });
  }

  void Done(beast::error_code ec, const char* what) {
    if (done_) return;
    done_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (!cb_.on_done) return;
    if (!ec) return cb_.on_done(OkStatus());
    if (cancelled_) return cb_.on_done(CancelledError("cancelled"));
    cb_.on_done(UnavailableError(std::string(what) + ": " + ec.message()));
  }

  asio::ip::tcp::resolver resolver_;
  beast::tcp_stream stream_;
  HttpCall call_;
  HttpCallbacks cb_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
  char chunk_[16384];
  bool done_ = false;
  bool cancelled_ = false;
};

}  // namespace

std::shared_ptr<HttpCallHandle> StartHttpCall(asio::io_context& ioc, HttpCall call,
                                              HttpCallbacks callbacks) {
  auto c = std::make_shared<Call>(ioc, std::move(call), std::move(callbacks));
  c->Run();
  return c;
}

std::vector<std::string> SseParser::Feed(std::string_view bytes) {
  pending_.append(bytes.data(), bytes.size());
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = pending_.find("\n\n", start);
    if (end == std::string::npos) break;
    std::string_view event(pending_.data() + start, end - start);
    size_t pos = 0;
    while (pos <= event.size()) {
      size_t eol = event.find('\n', pos);
      if (eol == std::string_view::npos) eol = event.size();
      std::string_view line = event.substr(pos, eol - pos);
      if (line.rfind("data:", 0) == 0) {
        line.remove_prefix(5);
        if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
        out.emplace_back(line);
      }
      pos = eol + 1;
    }
    start = end + 2;
  }
  pending_.erase(0, start);
  return out;
}

}  // namespace pagellm::server::bench

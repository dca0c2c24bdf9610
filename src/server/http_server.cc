#include "server/http_server.h"

#include <list>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "base/logging.h"
#include "server/http_session.h"

namespace pagellm::server {

class HttpServer::Impl {
 public:
  Impl(asio::io_context& ioc, const HttpServerOptions& options, const HttpHandler& handler,
       std::shared_ptr<std::atomic<int>> in_flight)
      : ioc_(ioc), options_(options), handler_(handler), in_flight_(std::move(in_flight)),
        acceptor_(asio::make_strand(ioc)) {}

  StatusOr<int> Listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return InvalidArgumentError("bad --host '" + options_.host + "': " + ec.message());
    if (options_.port < 0 || options_.port > 65535) return InvalidArgumentError("bad --port");
    asio::ip::tcp::endpoint ep(address, static_cast<unsigned short>(options_.port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return UnavailableError(fmt::format("cannot listen on {}:{}: {}", options_.host,
                                          options_.port, ec.message()));
    }
    return static_cast<int>(acceptor_.local_endpoint().port());
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [this](beast::error_code ec, asio::ip::tcp::socket socket) {
                             if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
                             if (!ec) {
                               socket.set_option(asio::ip::tcp::no_delay(true), ec);
                               auto s = std::make_shared<HttpSession>(
                                   std::move(socket), options_, handler_, in_flight_);
                               Track(s);
                               s->Start();
                             } else {
                               LOG_WARN("accept: {}", ec.message());
                             }
                             Accept();
                           });
  }

  void StopAccepting() {
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
  }

  void CloseAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : sessions_) {
      if (auto s = w.lock()) asio::post(s->executor(), [s] { s->Close(); });
    }
  }

 private:
  void Track(const std::shared_ptr<HttpSession>& s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (++tracked_since_gc_ > 1024) {  // drop dead entries now and then
      sessions_.remove_if([](const auto& w) { return w.expired(); });
      tracked_since_gc_ = 0;
    }
    sessions_.push_back(s);
  }

  asio::io_context& ioc_;
  const HttpServerOptions& options_;
  const HttpHandler& handler_;
  std::shared_ptr<std::atomic<int>> in_flight_;
  asio::ip::tcp::acceptor acceptor_;
  std::mutex mu_;
  std::list<std::weak_ptr<HttpSession>> sessions_;
  int tracked_since_gc_ = 0;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)),
      ioc_(std::max(1, options_.io_threads)),
      impl_(std::make_unique<Impl>(ioc_, options_, handler_, in_flight_)) {}

HttpServer::~HttpServer() { Stop(); }

StatusOr<int> HttpServer::Listen() { return impl_->Listen(); }

void HttpServer::Start() {
  // Engine callbacks post here after every socket may be gone: keep run() from returning.
  work_ = std::make_unique<WorkGuard>(ioc_.get_executor());
  impl_->Accept();
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
}

void HttpServer::StopAccepting() { impl_->StopAccepting(); }
void HttpServer::CloseAll() { impl_->CloseAll(); }

void HttpServer::Stop() {
  if (threads_.empty()) return;
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace pagellm::server

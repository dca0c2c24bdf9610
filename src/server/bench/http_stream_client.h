// A small asynchronous HTTP/1.1 client (Boost.Beast) that hands the response body to a
// callback as it arrives (chunked or not). One connection per request, no TLS.
// Thread-safety: callbacks run on the io_context's threads; one request is never concurrent
// with itself.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/status.h"

namespace pagellm::server::bench {

struct HttpCall {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string method = "POST";
  std::string target = "/v1/completions";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// on_headers(status) once the status line and headers are in; on_data(piece) per body piece;
// on_done(status) last (OK, or why the exchange failed).
struct HttpCallbacks {
  std::function<void(int http_status)> on_headers;
  std::function<void(std::string_view piece)> on_data;
  std::function<void(Status status)> on_done;
};

// Starts the call. Returns a handle whose Cancel() closes the connection (from any thread).
class HttpCallHandle {
 public:
  virtual ~HttpCallHandle() = default;
  virtual void Cancel() = 0;
};
std::shared_ptr<HttpCallHandle> StartHttpCall(boost::asio::io_context& ioc, HttpCall call,
                                              HttpCallbacks callbacks);

// Splits an SSE byte stream into the payloads of its "data:" lines.
class SseParser {
 public:
  // Appends bytes; returns the payloads of every event completed by them.
  std::vector<std::string> Feed(std::string_view bytes);

 private:
  std::string pending_;
};

}  // namespace pagellm::server::bench

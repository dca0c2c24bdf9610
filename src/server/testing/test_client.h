// Blocking HTTP helpers for server tests (Boost.Beast sync API).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace pagellm::server::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Json = nlohmann::json;

struct TestResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json() const { return Json::parse(body, nullptr, false); }
};

// One persistent connection (keep-alive) to 127.0.0.1:port.
class TestConnection {
 public:
  explicit TestConnection(int port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  }
  TestResponse Send(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    http::read(socket_, buffer_, parser);
    TestResponse out;
    out.status = parser.get().result_int();
    for (const auto& f : parser.get()) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(::tolower(c));
      out.headers[name] = std::string(f.value());
    }
    out.body = parser.get().body();
    return out;
  }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::socket socket_;
  beast::flat_buffer buffer_;
};

inline TestResponse Fetch(int port, const std::string& method, const std::string& target,
                          const std::string& body = "",
                          const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  TestConnection c(port);
  return c.Send(method, target, body, headers);
}

inline TestResponse Post(int port, const std::string& target, const Json& body,
                         const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return Fetch(port, "POST", target, body.dump(), headers);
}

// The payloads of an SSE body, in order ("[DONE]" stays a string; others are parsed).
inline std::vector<Json> SseEvents(const std::string& body, bool* framing_ok = nullptr) {
  std::vector<Json> out;
  bool ok = true;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos || body.compare(pos, 6, "data: ") != 0) {
      ok = false;
      break;
    }
    std::string payload = body.substr(pos + 6, end - pos - 6);
    out.push_back(payload == "[DONE]" ? Json("[DONE]") : Json::parse(payload, nullptr, false));
    pos = end + 2;
  }
  if (framing_ok) *framing_ok = ok;
  return out;
}

// Raw bytes over a fresh connection; returns what the server sent until it closed or
// `max_bytes` arrived.
inline std::string RawExchange(int port, const std::string& bytes, size_t max_bytes = 1 << 20) {
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  asio::write(s, asio::buffer(bytes));
  std::string out;
  char buf[4096];
  boost::system::error_code ec;
  while (out.size() < max_bytes) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace pagellm::server::testing

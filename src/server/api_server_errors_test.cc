// End-to-end: error statuses and shapes, auth, token-id mode, transport robustness,
// disconnects and shutdown.
#include <thread>

#include <gtest/gtest.h>

#include "server/testing/server_fixture.h"

namespace pagellm::server::testing {
namespace {

void ExpectError(const TestResponse& r, int status, const std::string& type) {
  EXPECT_EQ(r.status, status) << r.body;
  Json j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  ASSERT_TRUE(j.contains("error")) << r.body;
  EXPECT_TRUE(j["error"]["message"].is_string());
  EXPECT_EQ(j["error"]["type"], type);
  EXPECT_TRUE(j["error"].contains("param"));
  EXPECT_EQ(j["error"]["code"], status);
}

ServerSetup SmallBody() {
  ServerSetup s;
  s.engine.max_model_len = 64;
  s.api.http.max_body_bytes = 4096;
  return s;
}

TEST(ServerErrorsTest, StatusesAndShapes) {
  TestServer server(SmallBody());
  int port = server.port();
  ExpectError(Fetch(port, "POST", "/v1/completions", "{not json"), 400, "BadRequestError");
  ExpectError(Fetch(port, "POST", "/v1/completions", "[1,2]"), 400, "BadRequestError");
  ExpectError(Post(port, "/v1/completions", {{"prompt", "x"}, {"max_tokens", "5"}}), 400,
              "BadRequestError");
  ExpectError(Post(port, "/v1/completions", {{"prompt", "x"}, {"temperature", 1e308}}), 400,
              "BadRequestError");
  ExpectError(Post(port, "/v1/completions", {{"prompt", "x"}, {"suffix", "y"}}), 400,
              "BadRequestError");
  ExpectError(Post(port, "/v1/completions", {{"prompt", "x"}, {"model", "gpt-4"}}), 404,
              "NotFoundError");
  ExpectError(Post(port, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 100}}), 400,
              "BadRequestError");  // 2 + 100 > 64
  ExpectError(Post(port, "/v1/completions", {{"prompt", std::string(70, 'a')}}), 400,
              "BadRequestError");
  ExpectError(Fetch(port, "GET", "/v1/nothing"), 404, "NotFoundError");
  ExpectError(Fetch(port, "GET", "/v1/completions"), 405, "MethodNotAllowedError");
  ExpectError(Post(port, "/v1/completions", {{"prompt", std::string(5000, 'a')}}), 413,
              "RequestEntityTooLargeError");
}

TEST(ServerErrorsTest, ContinueFinalMessageNeedsAssistant) {
  TestServer server;
  auto r = Post(server.port(), "/v1/chat/completions",
                {{"messages", {{{"role", "user"}, {"content", "x"}}}},
                 {"add_generation_prompt", false}, {"continue_final_message", true}});
  ExpectError(r, 400, "BadRequestError");
}

TEST(ServerErrorsTest, ApiKey) {
  ServerSetup s;
  s.api.serving.api_key = "sekrit";
  TestServer server(s);
  ExpectError(Fetch(server.port(), "GET", "/v1/models"), 401, "AuthenticationError");
  ExpectError(Fetch(server.port(), "GET", "/v1/models", "", {{"Authorization", "Bearer nope"}}),
              401, "AuthenticationError");
  EXPECT_EQ(Fetch(server.port(), "GET", "/v1/models", "", {{"Authorization", "Bearer sekrit"}})
                .status, 200);
  EXPECT_EQ(Fetch(server.port(), "GET", "/health").status, 200);
}

TEST(ServerErrorsTest, TokenIdMode) {
  ServerSetup s;
  s.engine.has_tokenizer = false;
  TestServer server(s);
  int port = server.port();
  ExpectError(Post(port, "/v1/completions", {{"prompt", "text"}}), 400, "BadRequestError");
  ExpectError(Post(port, "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "x"}}}}}),
              400, "BadRequestError");
  ExpectError(Post(port, "/tokenize", {{"prompt", "x"}}), 400, "BadRequestError");
  ExpectError(Post(port, "/v1/completions", {{"prompt", {1, 2}}, {"stop", "x"}}), 400,
              "BadRequestError");
  Json j = Post(port, "/v1/completions", {{"prompt", {1, 2, 3}}, {"max_tokens", 4},
                                          {"logprobs", 1}}).json();
  EXPECT_EQ(j["choices"][0]["text"], "");
  EXPECT_EQ(j["choices"][0]["token_ids"].size(), 4u);
  EXPECT_EQ(j["choices"][0]["logprobs"]["tokens"][0],
            "token_id:" + std::to_string(j["choices"][0]["token_ids"][0].get<int>()));
  auto events = SseEvents(Post(port, "/v1/completions",
                               {{"prompt", {1, 2, 3}}, {"max_tokens", 4}, {"stream", true}}).body);
  size_t ids = 0;
  for (const auto& e : events) {
    if (e.is_object() && !e["choices"].empty()) ids += e["choices"][0]["token_ids"].size();
  }
  EXPECT_EQ(ids, 4u);
}

TEST(ServerErrorsTest, UnhealthyEngine) {
  TestServer server;
  server.engine().SetHealthy(false);
  ExpectError(Fetch(server.port(), "GET", "/health"), 503, "ServiceUnavailableError");
  ExpectError(Post(server.port(), "/v1/completions", {{"prompt", "x"}, {"stream", true}}), 503,
              "ServiceUnavailableError");
}

TEST(ServerErrorsTest, MalformedHttpAndSlowClients) {
  TestServer server;
  int port = server.port();
  std::string r = RawExchange(port, "GARBAGE\r\n\r\n");
  EXPECT_NE(r.find("400"), std::string::npos) << r;
  r = RawExchange(port, "POST /v1/completions HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 4", 0), 0u) << r;
  // A client that sends half a request and stalls must not block anyone else.
  asio::io_context ioc;
  asio::ip::tcp::socket slow(ioc);
  slow.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  asio::write(slow, asio::buffer(std::string("POST /v1/completions HTTP/1.1\r\nContent-Le")));
  EXPECT_EQ(Fetch(port, "GET", "/health").status, 200);
  // HTTP/1.0 streaming: no chunking, the server closes at the end.
  r = RawExchange(port, "POST /v1/completions HTTP/1.0\r\nContent-Length: 47\r\n\r\n"
                        "{\"prompt\":\"x\",\"max_tokens\":3,\"stream\":true}     ");
  EXPECT_NE(r.find("data: [DONE]"), std::string::npos) << r;
  EXPECT_EQ(r.find("Transfer-Encoding"), std::string::npos);
}

TEST(ServerErrorsTest, PipelinedRequests) {
  TestServer server;
  std::string one = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string two = "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string r = RawExchange(server.port(), one + two);
  size_t first = r.find("HTTP/1.1 200"), second = r.find("HTTP/1.1 200", first + 1);
  EXPECT_NE(first, std::string::npos) << r;
  EXPECT_NE(second, std::string::npos) << r;
  EXPECT_NE(r.find("\"version\""), std::string::npos) << r;
}

TEST(ServerErrorsTest, DisconnectAbortsAtOnce) {
  ServerSetup s;
  s.engine.step_delay = std::chrono::milliseconds(2);
  TestServer server(s);
  for (bool stream : {true, false}) {
    int64_t before = server.engine().num_aborts();
    {
      asio::io_context ioc;
      asio::ip::tcp::socket sock(ioc);
      sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
      std::string body = Json{{"prompt", "x"}, {"max_tokens", 1500}, {"stream", stream}}.dump();
      std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
      asio::write(sock, asio::buffer(req));
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      EXPECT_EQ(server.engine().num_in_flight(), 1);
    }  // closes the socket
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (server.engine().num_aborts() == before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(server.engine().num_aborts(), before + 1) << "stream=" << stream;
    EXPECT_EQ(server.engine().num_in_flight(), 0);
  }
}

// A client that stops reading a stream is dropped once its backlog passes the limit, and
// its request is aborted.
TEST(ServerErrorsTest, SlowReaderIsDropped) {
  ServerSetup s;
  s.engine.max_model_len = 4096;
  s.api.http.max_pending_write_bytes = 64 << 10;
  TestServer server(s);
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
  sock.set_option(asio::socket_base::receive_buffer_size(4096));
  std::string body = Json{{"prompt", "x"}, {"max_tokens", 4000}, {"n", 32}, {"stream", true}}.dump();
  asio::write(sock, asio::buffer("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.engine().num_aborts() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.engine().num_aborts(), 1);
  EXPECT_EQ(Fetch(server.port(), "GET", "/health").status, 200);
}

TEST(ServerErrorsTest, ShutdownAbortsInFlight) {
  ServerSetup s;
  s.engine.step_delay = std::chrono::milliseconds(2);
  TestServer server(s);
  std::thread client([&] {
    try {  // the server closes this stream mid-way
      Post(server.port(), "/v1/completions",
           {{"prompt", "x"}, {"max_tokens", 1500}, {"stream", true}});
    } catch (const std::exception&) {
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start = std::chrono::steady_clock::now();
  server.api().Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(server.engine().num_aborts(), 1);
  client.join();
}

}  // namespace
}  // namespace pagellm::server::testing

// End-to-end: completions, chat, streaming, logprobs, stop strings, usage, legacy /generate.
#include <thread>

#include <gtest/gtest.h>

#include "server/bench/bench_serve.h"
#include "server/testing/server_fixture.h"

namespace pagellm::server::testing {
namespace {

class ApiServerTest : public ::testing::Test {
 protected:
  TestServer server_;
  int port() { return server_.port(); }
};

// Concatenates the streamed text of every choice index.
std::map<int, std::string> StreamedTexts(const std::vector<Json>& events, bool chat) {
  std::map<int, std::string> out;
  for (const Json& e : events) {
    if (!e.is_object() || !e.contains("choices")) continue;
    for (const Json& c : e["choices"]) {
      int i = c["index"];
      if (chat) out[i] += c["delta"].value("content", "");
      else out[i] += c["text"].get<std::string>();
    }
  }
  return out;
}

TEST_F(ApiServerTest, ModelsHealthVersion) {
  auto models = Fetch(port(), "GET", "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.json()["object"], "list");
  EXPECT_EQ(models.json()["data"][0]["id"], "fake-model");
  EXPECT_EQ(models.json()["data"][0]["max_model_len"], 2048);
  EXPECT_EQ(Fetch(port(), "GET", "/health").status, 200);
  EXPECT_TRUE(Fetch(port(), "GET", "/version").json().contains("version"));
}

TEST_F(ApiServerTest, CompletionNonStreaming) {
  auto r = Post(port(), "/v1/completions", {{"model", "fake-model"}, {"prompt", "Hello"},
                                            {"max_tokens", 12}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["model"], "fake-model");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_EQ(j["choices"][0]["text"], server_.Expected("Hello", 0, 12));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 6);  // BOS + 5 bytes
  EXPECT_EQ(j["usage"]["completion_tokens"], 12);
  EXPECT_EQ(j["usage"]["total_tokens"], 18);
}

TEST_F(ApiServerTest, CompletionStreamMatchesNonStreamWithN) {
  Json body = {{"prompt", {"abc", "xyz"}}, {"max_tokens", 20}, {"n", 2}};
  auto plain = Post(port(), "/v1/completions", body).json();
  ASSERT_EQ(plain["choices"].size(), 4u);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto r = Post(port(), "/v1/completions", body);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"].rfind("text/event-stream", 0), 0u);
  bool framing = false;
  auto events = SseEvents(r.body, &framing);
  ASSERT_TRUE(framing);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  const Json& usage_chunk = events[events.size() - 2];
  EXPECT_TRUE(usage_chunk["choices"].empty());
  EXPECT_EQ(usage_chunk["usage"], plain["usage"]);
  EXPECT_EQ(plain["usage"]["completion_tokens"], 80);
  auto texts = StreamedTexts(events, false);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(texts[i], plain["choices"][i]["text"]) << i;
  for (size_t k = 0; k + 2 < events.size(); ++k) {
    EXPECT_EQ(events[k]["object"], "text_completion");
    EXPECT_EQ(events[k]["id"], events[0]["id"]);
  }
  EXPECT_NE(plain["choices"][0]["text"], plain["choices"][1]["text"]);  // n differ
}

TEST_F(ApiServerTest, ChatStreamAndNonStream) {
  Json body = {{"messages", {{{"role", "system"}, {"content", "Be brief."}},
                             {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "Hi"}}}}}}},
               {"max_completion_tokens", 15}, {"n", 2}};
  auto plain = Post(port(), "/v1/chat/completions", body);
  ASSERT_EQ(plain.status, 200) << plain.body;
  Json j = plain.json();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["usage"]["completion_tokens"], 30);
  std::string rendered = "<|system|>Be brief.\n<|user|>Hi\n<|assistant|>";
  EXPECT_EQ(j["usage"]["prompt_tokens"], static_cast<int>(rendered.size()));
  EXPECT_EQ(j["choices"][1]["message"]["content"],
            server_.engine().ExpectedText(*server_.engine().Encode(rendered, false), 1, 15));
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}, {"continuous_usage_stats", true}};
  auto events = SseEvents(Post(port(), "/v1/chat/completions", body).body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events[1]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(events[2].contains("usage"));
  auto texts = StreamedTexts(events, true);
  EXPECT_EQ(texts[0], j["choices"][0]["message"]["content"]);
  EXPECT_EQ(texts[1], j["choices"][1]["message"]["content"]);
  EXPECT_EQ(events[events.size() - 2]["usage"]["total_tokens"], j["usage"]["total_tokens"]);
}

TEST_F(ApiServerTest, StopStrings) {
  std::string full = server_.Expected("Hello", 0, 100);
  size_t at = full.find("fox");
  ASSERT_NE(at, std::string::npos);
  Json body = {{"prompt", "Hello"}, {"max_tokens", 100}, {"stop", {"fox", "never"}}};
  Json j = Post(port(), "/v1/completions", body).json();
  EXPECT_EQ(j["choices"][0]["text"], full.substr(0, at));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["stop_reason"], "fox");
  body["stream"] = true;
  EXPECT_EQ(StreamedTexts(SseEvents(Post(port(), "/v1/completions", body).body), false)[0],
            full.substr(0, at));
  body["include_stop_str_in_output"] = true;
  body["stream"] = false;
  EXPECT_EQ(Post(port(), "/v1/completions", body).json()["choices"][0]["text"],
            full.substr(0, at + 3));
}

TEST_F(ApiServerTest, Logprobs) {
  Json j = Post(port(), "/v1/completions",
                {{"prompt", "Hi"}, {"max_tokens", 5}, {"logprobs", 3}}).json();
  const Json& lp = j["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 5u);
  EXPECT_EQ(lp["token_logprobs"].size(), 5u);
  EXPECT_EQ(lp["top_logprobs"][0].size(), 3u);
  EXPECT_EQ(lp["text_offset"][1], 1);
  std::string joined;
  for (const auto& t : lp["tokens"]) joined += t.get<std::string>();
  EXPECT_EQ(joined, j["choices"][0]["text"]);
  Json c = Post(port(), "/v1/chat/completions",
                {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", 4},
                 {"logprobs", true}, {"top_logprobs", 2}}).json();
  const Json& content = c["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 4u);
  EXPECT_EQ(content[0]["top_logprobs"].size(), 2u);
  EXPECT_TRUE(content[0]["bytes"].is_array());
  Json ids = Post(port(), "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 2}, {"logprobs", 0},
                                              {"return_tokens_as_token_ids", true}}).json();
  EXPECT_EQ(ids["choices"][0]["logprobs"]["tokens"][0].get<std::string>().rfind("token_id:", 0), 0u);
}

TEST_F(ApiServerTest, EchoAndTokenPrompts) {
  Json j = Post(port(), "/v1/completions", {{"prompt", "Hey"}, {"max_tokens", 3}, {"echo", true}}).json();
  EXPECT_EQ(j["choices"][0]["text"], "Hey" + server_.Expected("Hey", 0, 3));
  Json t = Post(port(), "/v1/completions", {{"prompt", {72, 105}}, {"max_tokens", 3}}).json();
  EXPECT_EQ(t["usage"]["prompt_tokens"], 2);
  EXPECT_EQ(t["choices"][0]["text"], server_.engine().ExpectedText({72, 105}, 0, 3));
}

TEST_F(ApiServerTest, TokenizeDetokenize) {
  Json t = Post(port(), "/tokenize", {{"prompt", "Hi"}}).json();
  EXPECT_EQ(t["count"], 3);
  EXPECT_EQ(t["max_model_len"], 2048);
  EXPECT_EQ(t["tokens"], Json({256, 72, 105}));
  Json m = Post(port(), "/tokenize", {{"messages", {{{"role", "user"}, {"content", "x"}}}}}).json();
  EXPECT_EQ(m["count"], std::string("<|user|>x\n<|assistant|>").size());
  EXPECT_EQ(Post(port(), "/detokenize", {{"tokens", {72, 105}}}).json()["prompt"], "Hi");
}

TEST_F(ApiServerTest, LegacyGenerate) {
  Json j = Post(port(), "/generate", {{"prompt", "Hi"}, {"max_tokens", 4}}).json();
  EXPECT_EQ(j["text"][0], "Hi" + server_.Expected("Hi", 0, 4));
  auto r = Post(port(), "/generate", {{"prompt", "Hi"}, {"max_tokens", 4}, {"stream", true}});
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> parts;
  size_t pos = 0;
  for (size_t end; (end = r.body.find('\0', pos)) != std::string::npos; pos = end + 1) {
    parts.push_back(r.body.substr(pos, end - pos));
  }
  EXPECT_EQ(pos, r.body.size());
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(Json::parse(parts.back())["text"][0], j["text"][0]);
}

TEST_F(ApiServerTest, MetricsCountRequests) {
  Post(port(), "/v1/completions", {{"prompt", "Hello"}, {"max_tokens", 4}});
  std::string text = Fetch(port(), "GET", "/metrics").body;
  EXPECT_NE(text.find("vllm:generation_tokens_total{model_name=\"fake-model\"} 4"), std::string::npos);
  EXPECT_NE(text.find("vllm:prompt_tokens_total{model_name=\"fake-model\"} 6"), std::string::npos);
  EXPECT_NE(text.find("vllm:e2e_request_latency_seconds_count{model_name=\"fake-model\"} 1"), std::string::npos);
  EXPECT_NE(text.find("pagellm:num_requests_running"), std::string::npos);
}

TEST_F(ApiServerTest, KeepAliveAndCors) {
  TestConnection c(port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.Send("GET", "/v1/models", "", {{"Origin", "http://example.com"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["access-control-allow-origin"], "*");
  }
  auto pre = c.Send("OPTIONS", "/v1/completions", "", {{"Origin", "http://a"},
                    {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.status, 200);
  EXPECT_FALSE(pre.headers["access-control-allow-methods"].empty());
}

// 200 concurrent streams: each streamed concatenation equals the non-streamed output.
TEST_F(ApiServerTest, ConcurrentStreamsMatchNonStreamed) {
  bench::BenchServeConfig cfg;
  cfg.port = port();
  cfg.model = "fake-model";
  std::vector<bench::BenchItem> items(200);
  for (int i = 0; i < 200; ++i) {
    items[i].prompt = "prompt number " + std::to_string(i);
    items[i].max_tokens = 10 + i % 30;
  }
  double duration = 0;
  auto outcomes = bench::RunBenchmark(cfg, items, &duration);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(outcomes[i].success) << outcomes[i].error;
    Json plain = Post(port(), "/v1/completions", {{"prompt", items[i].prompt},
                                                  {"max_tokens", items[i].max_tokens}}).json();
    EXPECT_EQ(outcomes[i].generated_text, plain["choices"][0]["text"]) << i;
    EXPECT_EQ(outcomes[i].output_tokens, items[i].max_tokens);
  }
}

}  // namespace
}  // namespace pagellm::server::testing

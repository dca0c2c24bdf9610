// The HTTP server over the REAL engine (a tiny Llama on the CPU): completions and chat,
// streaming equals non-streaming under concurrency, stop strings, errors, and no KV block left
// behind after clients disconnect mid-stream; with and without --async-scheduling.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "engine/testing/tiny_model.h"
#include "server/api_server.h"
#include "server/testing/test_client.h"
#include "serving/async_engine_client.h"

namespace pagellm {
namespace {

using server::testing::Fetch;
using server::testing::Post;
using server::testing::SseEvents;
using Json = nlohmann::json;

class ServingE2ETest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    model_ = testing::MakeTinyLlama("serving");
    EngineArgs ea = testing::TinyEngineArgs(model_, 512);
    ea.async_scheduling = GetParam();
    ea.chat_template =
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}";
    auto engine = AsyncEngine::Create(ea);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    auto chat = ChatRenderer::Create(*(*engine)->engine().tokenizer(), ea.chat_template);
    ASSERT_TRUE(chat.ok());
    server::ModelInfo info{{"tiny"}, model_.dir, 512, 20, 0};
    client_ = std::make_unique<AsyncEngineClient>(std::move(engine).value(), std::move(chat).value(), info);
    server::ApiServerOptions opts;
    opts.http.host = "127.0.0.1";
    opts.http.port = 0;
    opts.http.io_threads = 2;
    opts.serving.disable_log_requests = true;
    opts.shutdown_grace = std::chrono::milliseconds(200);
    api_ = std::make_unique<server::ApiServer>(opts, client_.get());
    auto port = api_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
  }
  void TearDown() override {
    api_.reset();
    client_.reset();
  }
  void ExpectAllBlocksFree() {
    for (int i = 0; i < 200; ++i) {
      EngineStats s = client_->engine().GetStats();
      if (s.num_free_blocks == s.num_total_blocks && s.num_running + s.num_waiting == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EngineStats s = client_->engine().GetStats();
    FAIL() << "leaked blocks: " << s.num_total_blocks - s.num_free_blocks;
  }
  testing::TinyModel model_;
  std::unique_ptr<AsyncEngineClient> client_;
  std::unique_ptr<server::ApiServer> api_;
  int port_ = 0;
};

TEST_P(ServingE2ETest, CompletionStreamingEqualsNonStreamingUnderConcurrency) {
  Json body = {{"model", "tiny"}, {"prompt", "Hello world"}, {"max_tokens", 16},
               {"temperature", 0}, {"ignore_eos", true}};
  auto plain = Post(port_, "/v1/completions", body);
  ASSERT_EQ(plain.status, 200) << plain.body;
  std::string want = plain.json()["choices"][0]["text"];
  EXPECT_EQ(plain.json()["usage"]["completion_tokens"], 16);
  body["stream"] = true;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&] {
      auto r = Post(port_, "/v1/completions", body);
      std::string got;
      for (const Json& e : SseEvents(r.body)) {
        if (e.is_object() && e.contains("choices") && !e["choices"].empty()) got += e["choices"][0]["text"].get<std::string>();
      }
      if (r.status == 200 && got == want) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 32);
  ExpectAllBlocksFree();
}

TEST_P(ServingE2ETest, ChatStopStringsAndErrors) {
  Json chat = {{"model", "tiny"}, {"messages", {{{"role", "user"}, {"content", "Hi there"}}}},
               {"max_tokens", 8}, {"temperature", 0}, {"ignore_eos", true}};
  auto r = Post(port_, "/v1/chat/completions", chat);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string text = r.json()["choices"][0]["message"]["content"];
  EXPECT_EQ(r.json()["choices"][0]["message"]["role"], "assistant");
  if (text.size() >= 4) {
    chat["stop"] = text.substr(2, 2);
    auto s = Post(port_, "/v1/chat/completions", chat);
    ASSERT_EQ(s.status, 200) << s.body;
    EXPECT_EQ(s.json()["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(s.json()["choices"][0]["message"]["content"], text.substr(0, text.find(text.substr(2, 2))));
  }
  auto tok = Post(port_, "/tokenize", {{"model", "tiny"}, {"prompt", "Hello"}});
  ASSERT_EQ(tok.status, 200) << tok.body;
  EXPECT_EQ(tok.json()["max_model_len"], 512);
  std::string huge(3000, 'x');
  auto too_long = Post(port_, "/v1/completions", {{"model", "tiny"}, {"prompt", huge}, {"max_tokens", 4}});
  EXPECT_EQ(too_long.status, 400) << too_long.body;
  EXPECT_TRUE(too_long.json().contains("error"));
  auto bad = Post(port_, "/v1/completions", {{"model", "tiny"}, {"prompt", "x"}, {"temperature", -2}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  auto metrics = Fetch(port_, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("vllm:num_requests_running"), std::string::npos);
  ExpectAllBlocksFree();
}

TEST_P(ServingE2ETest, DisconnectedStreamsFreeTheirBlocks) {
  Json body = {{"model", "tiny"}, {"prompt", "Hello world"}, {"max_tokens", 200},
               {"ignore_eos", true}, {"stream", true}};
  std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: " + std::to_string(body.dump().size()) + "\r\n\r\n" + body.dump();
  for (int i = 0; i < 8; ++i) {
    // Read a little of the stream, then hang up.
    std::string got = server::testing::RawExchange(port_, req, 256);
    EXPECT_FALSE(got.empty());
  }
  ExpectAllBlocksFree();
}

TEST_P(ServingE2ETest, BeamSearchAbortAndResult) {
  // An aborted search reports once (an error, or its result if it won the race) and frees
  // every block; a finished one returns n sequences, best first.
  for (bool abort : {true, false}) {
    server::GenerateRequest req;
    req.request_id = abort ? "beam-aborted" : "beam-done";
    req.prompt_token_ids = {1, 2, 3};
    req.sampling.n = 2;
    req.sampling.use_beam_search = true;
    req.sampling.ignore_eos = true;
    req.sampling.max_tokens = abort ? 450 : 6;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<server::RequestOutputDelta> got;
    ASSERT_TRUE(client_->Generate(req, [&](server::RequestOutputDelta d) {
                  std::lock_guard<std::mutex> lock(mu);
                  got.push_back(std::move(d));
                  cv.notify_all();
                }).ok());
    if (abort) client_->Abort(req.request_id);
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !got.empty(); }));
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].finished);
    if (abort) std::printf("beam search: %s\n", got[0].error.ok() ? "finished first" : "aborted");
    if (!abort) {
      ASSERT_TRUE(got[0].error.ok()) << got[0].error.ToString();
      ASSERT_EQ(got[0].choices.size(), 2u);
      EXPECT_EQ(got[0].choices[0].token_ids.size(), 6u);
    }
    ExpectAllBlocksFree();
  }
}

INSTANTIATE_TEST_SUITE_P(Scheduling, ServingE2ETest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Async" : "Sync";
                         });

}  // namespace
}  // namespace pagellm

// RunBatch over the fake engine: output order and format, success bodies identical to the
// HTTP endpoint's, and per-line errors that leave the other lines alone.
#include "tools/pagellm/batch_runner.h"

#include <gtest/gtest.h>

#include "server/fake_engine_client.h"

namespace pagellm::cli {
namespace {

using Json = nlohmann::json;

std::vector<Json> RunLines(server::EngineClient& engine, const std::vector<std::string>& lines,
                      BatchSummary* summary = nullptr) {
  std::vector<Json> out;
  BatchSummary s = RunBatch(engine, lines, {}, [&](const nlohmann::ordered_json& j) {
    out.push_back(Json::parse(j.dump()));
  });
  if (summary) *summary = s;
  return out;
}

std::string Line(const std::string& id, const std::string& url, const Json& body) {
  return Json{{"custom_id", id}, {"method", "POST"}, {"url", url}, {"body", body}}.dump();
}

TEST(BatchRunnerTest, CompletionAndChatInOrder) {
  server::FakeEngineClient engine;
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i) {
    // Different lengths finish in a different order than submitted.
    lines.push_back(Line("c" + std::to_string(i), "/v1/completions",
                         {{"prompt", "p" + std::to_string(i)}, {"max_tokens", 20 - 3 * i}}));
  }
  lines.push_back("");  // blank lines are skipped
  lines.push_back(Line("chat", "/v1/chat/completions",
                       {{"model", "fake-model"},
                        {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                        {"max_tokens", 7}}));
  BatchSummary s;
  auto out = RunLines(engine, lines, &s);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(s.num_lines, 7u);
  EXPECT_EQ(s.num_ok, 7u);
  for (int i = 0; i < 6; ++i) {
    const Json& o = out[i];
    EXPECT_EQ(o["custom_id"], "c" + std::to_string(i));
    EXPECT_EQ(o["id"].get<std::string>().rfind("batch_req_", 0), 0u);
    EXPECT_TRUE(o["error"].is_null());
    EXPECT_EQ(o["response"]["status_code"], 200);
    const Json& body = o["response"]["body"];
    EXPECT_EQ(body["object"], "text_completion");
    EXPECT_EQ(o["response"]["request_id"], body["id"]);
    EXPECT_EQ(body["usage"]["completion_tokens"], 20 - 3 * i);
    std::vector<int32_t> prompt = *engine.Encode("p" + std::to_string(i), true);
    EXPECT_EQ(body["choices"][0]["text"], engine.ExpectedText(prompt, 0, 20 - 3 * i));
  }
  EXPECT_EQ(out[6]["custom_id"], "chat");
  EXPECT_EQ(out[6]["response"]["body"]["object"], "chat.completion");
  EXPECT_EQ(out[6]["response"]["body"]["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(out[6]["response"]["body"]["usage"]["completion_tokens"], 7);
}

TEST(BatchRunnerTest, BadLinesFailAlone) {
  server::FakeEngineClient engine;
  std::vector<std::string> lines = {
      "{not json",
      Line("url", "/v1/embeddings", {{"input", "x"}}),
      Json{{"custom_id", "method"}, {"method", "GET"}, {"url", "/v1/completions"},
           {"body", Json::object()}}.dump(),
      Line("neg", "/v1/completions", {{"prompt", "x"}, {"max_tokens", -1}}),
      Line("stream", "/v1/completions", {{"prompt", "x"}, {"stream", true}}),
      Line("model", "/v1/completions", {{"prompt", "x"}, {"model", "other"}}),
      Line("chat-no-messages", "/v1/chat/completions", {{"max_tokens", 3}}),
      Json{{"method", "POST"}, {"url", "/v1/completions"}, {"body", {{"prompt", "x"}}}}.dump(),
      Line("ok", "/v1/completions", {{"prompt", "fine"}, {"max_tokens", 4}}),
  };
  BatchSummary s;
  auto out = RunLines(engine, lines, &s);
  ASSERT_EQ(out.size(), lines.size());
  EXPECT_EQ(s.num_ok, 1u);
  EXPECT_EQ(s.num_failed, lines.size() - 1);
  const int want[] = {400, 400, 400, 400, 400, 404, 400, 400, 200};
  for (size_t i = 0; i < lines.size(); ++i) {
    const Json& o = out[i];
    EXPECT_EQ(o["response"]["status_code"], want[i]) << i << " " << o.dump();
    if (want[i] == 200) continue;
    EXPECT_TRUE(o["error"].is_object()) << i;
    EXPECT_EQ(o["error"]["code"], want[i]);
    EXPECT_FALSE(o["error"]["message"].get<std::string>().empty());
    EXPECT_EQ(o["response"]["body"]["error"], o["error"]);
  }
  EXPECT_TRUE(out[0]["custom_id"].is_null());
  EXPECT_EQ(out[1]["custom_id"], "url");
  std::string url_message = out[1]["error"]["message"];
  EXPECT_NE(url_message.find("/v1/embeddings"), std::string::npos);
  EXPECT_EQ(out[4]["error"]["message"], "Request must not be sent in stream mode");
  EXPECT_EQ(out[8]["custom_id"], "ok");
  EXPECT_EQ(out[8]["response"]["body"]["usage"]["completion_tokens"], 4);
}

TEST(BatchRunnerTest, EmptyInput) {
  server::FakeEngineClient engine;
  BatchSummary s;
  EXPECT_TRUE(RunLines(engine, {"", "  "}, &s).empty());
  EXPECT_EQ(s.num_lines, 0u);
}

}  // namespace
}  // namespace pagellm::cli

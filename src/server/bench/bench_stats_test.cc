// vLLM benchmark_serving's metric definitions.
#include <gtest/gtest.h>

#include "server/bench/bench_serve.h"
#include "server/bench/http_stream_client.h"

namespace pagellm::server::bench {
namespace {

TEST(BenchStatsTest, PercentileIsNumpyLinear) {
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 99), 3.97);
  EXPECT_DOUBLE_EQ(Percentile({7}, 99), 7);
  EXPECT_DOUBLE_EQ(Percentile({}, 50), 0);
}

TEST(BenchStatsTest, Definitions) {
  RequestOutcome a;
  a.success = true;
  a.prompt_len = 10;
  a.output_tokens = 5;
  a.ttft = 0.1;
  a.latency = 0.5;
  a.itl = {0.1, 0.1, 0.1, 0.1};
  RequestOutcome b = a;
  b.output_tokens = 1;  // no TPOT for a single token
  b.itl = {};
  b.latency = 0.2;
  RequestOutcome failed;
  failed.error = "x";
  auto s = Summarize({a, b, failed}, 2.0);
  EXPECT_EQ(s.completed, 2);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.total_input_tokens, 20);
  EXPECT_EQ(s.total_output_tokens, 6);
  EXPECT_DOUBLE_EQ(s.request_throughput, 1.0);
  EXPECT_DOUBLE_EQ(s.output_throughput, 3.0);
  EXPECT_DOUBLE_EQ(s.total_token_throughput, 13.0);
  EXPECT_NEAR(s.tpot.mean_ms, 100.0, 1e-9);  // (0.5 - 0.1) / (5 - 1)
  EXPECT_NEAR(s.ttft.mean_ms, 100.0, 1e-9);
  EXPECT_NEAR(s.itl.median_ms, 100.0, 1e-9);
  EXPECT_NEAR(s.e2el.mean_ms, 350.0, 1e-9);
  BenchServeConfig c;
  auto j = s.ToJson(c, {a, b, failed});
  EXPECT_EQ(j["request_rate"], "inf");
  EXPECT_EQ(j["output_lens"], nlohmann::json({5, 1, 0}));
  EXPECT_TRUE(j.contains("p99_itl_ms"));
}

TEST(BenchStatsTest, SseParserSplitsAcrossPieces) {
  SseParser p;
  EXPECT_TRUE(p.Feed("data: {\"a\"").empty());
  auto out = p.Feed(":1}\n\ndata: [DONE]\n\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "{\"a\":1}");
  EXPECT_EQ(out[1], "[DONE]");
}

TEST(BenchStatsTest, RandomDataset) {
  BenchServeConfig c;
  c.num_prompts = 3;
  c.random_input_len = 8;
  c.random_output_len = 4;
  auto items = LoadDataset(c);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].prompt_token_ids.size(), 8u);
  EXPECT_EQ((*items)[0].max_tokens, 4);
  c.dataset_name = "jsonl";
  c.dataset_path = "/nonexistent.jsonl";
  EXPECT_FALSE(LoadDataset(c).ok());
}

}  // namespace
}  // namespace pagellm::server::bench

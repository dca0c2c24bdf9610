#include "server/server_args.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace pagellm::server {
namespace {

ServerArgs Parse(std::vector<std::string> argv) {
  CLI::App app;
  ServerArgs args;
  args.Register(app);
  std::reverse(argv.begin(), argv.end());  // CLI11 takes them reversed
  app.parse(argv);
  return args;
}

TEST(ServerArgsTest, VllmFlagNames) {
  ServerArgs a = Parse({"meta-llama/Llama-3.1-8B", "--host", "127.0.0.1", "--port", "9000",
                        "--served-model-name", "a", "b", "--max-model-len", "4096",
                        "--dtype", "bfloat16", "--device", "cuda", "--load-format", "dummy",
                        "--skip-tokenizer-init", "--seed", "7", "--max-num-seqs", "64",
                        "--max-num-batched-tokens", "8192", "--gpu-memory-utilization", "0.8",
                        "--block-size", "32", "--no-enable-prefix-caching",
                        "--tensor-parallel-size", "2", "--max-logprobs", "5",
                        "--return-tokens-as-token-ids", "--disable-log-requests",
                        "--allowed-origins", "[\"http://x\"]", "--enforce-eager", "--async-scheduling",
                        "--num-gpu-blocks-override", "100", "--kv-cache-memory", "1000000"});
  ASSERT_TRUE(a.Finalize().ok());
  EXPECT_EQ(a.model, "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(a.port, 9000);
  EXPECT_EQ(a.ServedModelNames(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(a.max_model_len, 4096);
  EXPECT_EQ(a.device, "cuda");
  EXPECT_TRUE(a.skip_tokenizer_init);
  EXPECT_FALSE(a.enable_prefix_caching);
  EXPECT_EQ(a.tensor_parallel_size, 2);
  EXPECT_EQ(a.allowed_origins, std::vector<std::string>{"http://x"});
  EXPECT_EQ(a.num_gpu_blocks_override, 100);
  EXPECT_TRUE(a.async_scheduling);
  EXPECT_EQ(a.kv_cache_memory, 1000000);
  auto o = a.ToApiServerOptions();
  EXPECT_EQ(o.http.port, 9000);
  EXPECT_TRUE(o.serving.return_tokens_as_token_ids);
}

TEST(ServerArgsTest, SizesPolicyAndBatchInvariance) {
  ServerArgs a = Parse({"m", "--kv-cache-memory", "64MiB", "--scheduling-policy", "priority",
                        "--batch-invariant"});
  ASSERT_TRUE(a.Finalize().ok());
  EXPECT_EQ(a.kv_cache_memory, int64_t{64} << 20);
  EXPECT_EQ(a.scheduling_policy, "priority");
  EXPECT_TRUE(a.batch_invariant);
  EXPECT_EQ(Parse({"m", "--kv-cache-memory", "2G"}).kv_cache_memory, int64_t{2} << 30);
  EXPECT_THROW(Parse({"m", "--scheduling-policy", "lifo"}), CLI::ParseError);
}

TEST(ServerArgsTest, DefaultsEnvAndValidation) {
  ServerArgs d = Parse({"m"});
  setenv("PAGELLM_API_KEY", "from-env", 1);
  ASSERT_TRUE(d.Finalize().ok());
  unsetenv("PAGELLM_API_KEY");
  EXPECT_EQ(d.api_key, "from-env");
  EXPECT_EQ(d.port, 8000);
  EXPECT_TRUE(d.enable_prefix_caching);
  EXPECT_EQ(d.allowed_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(d.ServedModelNames(), std::vector<std::string>{"m"});
  ServerArgs bad = Parse({"m", "--gpu-memory-utilization", "1.5"});
  EXPECT_FALSE(bad.Finalize().ok());
  ServerArgs no_model = Parse({});
  EXPECT_FALSE(no_model.Finalize().ok());
}

}  // namespace
}  // namespace pagellm::server

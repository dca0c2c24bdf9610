// End to end through the `pagellm` binary on a tiny Llama (dummy weights, byte-level
// tokenizer): run-batch with completion, chat and bad lines; bench throughput on a workload
// file. The model's vocab is widened to 32000 so that shared/bench/workload.py's token ids
// (which range to 32000) are valid; the tokenizer keeps its few hundred tokens, so the
// throughput run uses --skip-tokenizer-init.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "engine/testing/tiny_model.h"

namespace pagellm {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kVocab = 32000;

class CliE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new testing::TinyModel(testing::MakeTinyLlama("cli_e2e"));
    // Widen the vocab and context for workload.py's requests (ids < 32000, up to ~700 tokens).
    std::string cfg_path = JoinPath(model_->dir, "config.json");
    Json cfg = Json::parse(*ReadFileToString(cfg_path));
    cfg["vocab_size"] = kVocab;
    cfg["max_position_embeddings"] = 1024;
    ASSERT_TRUE(WriteStringToFile(cfg_path, cfg.dump(2)).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(model_->dir);
    delete model_;
  }

  std::string Path(const std::string& name) const { return JoinPath(model_->dir, name); }

  // Runs pagellm with `args` (already shell-quoted); returns the exit status.
  int Pagellm(const std::string& args) const {
    // One OpenMP thread: on a busy 2-core CI machine spinning OpenMP workers make the tiny
    // model ~7x slower (measured), and speed is not what these tests check.
    std::string cmd = "OMP_NUM_THREADS=1 " + std::string(PAGELLM_BIN) + " --log-level warn " +
                      args + " --model " + model_->dir + " --device cpu --load-format dummy" +
                      " --dtype float32 --kv-cache-memory 67108864 --max-num-seqs 32";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  static std::vector<Json> ReadJsonLines(const std::string& path) {
    std::ifstream in(path);
    std::vector<Json> out;
    for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
    return out;
  }

  static testing::TinyModel* model_;
};

testing::TinyModel* CliE2eTest::model_ = nullptr;

std::string BatchLine(const std::string& id, const std::string& url, const Json& body) {
  return Json{{"custom_id", id}, {"method", "POST"}, {"url", url}, {"body", body}}.dump();
}

TEST_F(CliE2eTest, RunBatch) {
  // The tiny tokenizer has no chat template.
  ASSERT_TRUE(WriteStringToFile(Path("chat.jinja"),
                                "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n"
                                "{% endfor %}assistant:").ok());
  std::ofstream in(Path("batch.jsonl"));
  in << BatchLine("cmpl", "/v1/completions",
                  {{"prompt", "hello world"}, {"max_tokens", 6}, {"ignore_eos", true},
                   {"temperature", 0}})
     << "\n"
     << BatchLine("chat", "/v1/chat/completions",
                  {{"model", model_->dir}, {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                   {"max_tokens", 5}, {"ignore_eos", true}})
     << "\n{broken\n"
     << BatchLine("tokens", "/v1/completions",
                  {{"prompt", {5, 6, 7}}, {"max_tokens", 3}, {"ignore_eos", true}, {"n", 2}})
     << "\n"
     << BatchLine("too-long", "/v1/completions", {{"prompt", "x"}, {"max_tokens", 5000}}) << "\n";
  in.close();
  ASSERT_EQ(Pagellm("run-batch -i " + Path("batch.jsonl") + " -o " + Path("out.jsonl") +
                    " --chat-template " + Path("chat.jinja")),
            0);
  auto out = ReadJsonLines(Path("out.jsonl"));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["custom_id"], "cmpl");
  EXPECT_EQ(out[0]["response"]["status_code"], 200);
  EXPECT_TRUE(out[0]["error"].is_null());
  const Json& cmpl = out[0]["response"]["body"];
  EXPECT_EQ(cmpl["object"], "text_completion");
  EXPECT_EQ(cmpl["model"], model_->dir);
  EXPECT_EQ(cmpl["usage"]["completion_tokens"], 6);
  EXPECT_EQ(out[1]["response"]["status_code"], 200) << out[1].dump();
  EXPECT_EQ(out[1]["response"]["body"]["object"], "chat.completion");
  EXPECT_EQ(out[1]["response"]["body"]["usage"]["completion_tokens"], 5);
  EXPECT_EQ(out[2]["response"]["status_code"], 400);
  EXPECT_TRUE(out[2]["custom_id"].is_null());
  EXPECT_EQ(out[3]["response"]["body"]["choices"].size(), 2u);
  EXPECT_EQ(out[3]["response"]["body"]["usage"]["prompt_tokens"], 3);
  EXPECT_EQ(out[4]["response"]["status_code"], 400);
  EXPECT_NE(out[4]["error"]["message"].get<std::string>().find("maximum context length"),
            std::string::npos);

  // stdin / stdout, and greedy results equal to the file run's.
  ASSERT_EQ(Pagellm("run-batch -i - -o - < " + Path("batch.jsonl") + " > " + Path("out2.jsonl") +
                    " --chat-template " + Path("chat.jinja")),
            0);
  auto out2 = ReadJsonLines(Path("out2.jsonl"));
  ASSERT_EQ(out2.size(), 5u);
  EXPECT_EQ(out2[0]["response"]["body"]["choices"], cmpl["choices"]);
}

TEST_F(CliE2eTest, BenchThroughputOnWorkload) {
  const char* shared = std::getenv("PAGELLM_SHARED");
  std::string workload = std::string(shared ? shared : "../shared") + "/bench/workload.py";
  if (!fs::exists(workload)) GTEST_SKIP() << "no " << workload;
  std::string data = Path("workload.jsonl");
  ASSERT_EQ(std::system(("/usr/bin/python3 " + workload + " sharegpt_like 16 " + data +
                         " > /dev/null").c_str()),
            0);
  constexpr int kUsed = 16;
  int64_t prompt_tokens = 0, output_tokens = 0;
  auto lines = ReadJsonLines(data);
  ASSERT_EQ(lines.size(), 16u);
  for (int i = 0; i < kUsed; ++i) {
    prompt_tokens += lines[i]["prompt_token_ids"].size();
    output_tokens += lines[i]["max_tokens"].get<int64_t>();
  }
  std::string result = Path("throughput.json");
  ASSERT_EQ(Pagellm("bench throughput --dataset-path " + data + " --output-json " +
                    result + " --skip-tokenizer-init --max-num-batched-tokens 2048"),
            0);
  Json j = Json::parse(*ReadFileToString(result));
  EXPECT_EQ(j["num_requests"], kUsed);
  EXPECT_EQ(j["total_prompt_tokens"], prompt_tokens);
  EXPECT_EQ(j["total_output_tokens"], output_tokens);  // EOS ignored: exactly max_tokens
  EXPECT_EQ(j["total_num_tokens"], prompt_tokens + output_tokens);
  double elapsed = j["elapsed_time"];
  EXPECT_GT(elapsed, 0);
  EXPECT_NEAR(j["requests_per_second"].get<double>(), kUsed / elapsed, 1e-6);
  EXPECT_NEAR(j["tokens_per_second"].get<double>(), (prompt_tokens + output_tokens) / elapsed,
              1e-3);
  EXPECT_NEAR(j["output_tokens_per_second"].get<double>(), output_tokens / elapsed, 1e-3);
}

TEST_F(CliE2eTest, BenchThroughputRandom) {
  std::string result = Path("random.json");
  ASSERT_EQ(Pagellm("bench throughput --input-len 16 --output-len 8 --num-prompts 10 --n 2 "
                    "--output-json " + result),
            0);
  Json j = Json::parse(*ReadFileToString(result));
  EXPECT_EQ(j["num_requests"], 10);
  EXPECT_EQ(j["total_prompt_tokens"], 160);
  EXPECT_EQ(j["total_output_tokens"], 160);
}

}  // namespace
}  // namespace pagellm

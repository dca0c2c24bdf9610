// `pagellm bench serve`: an online serving benchmark with vLLM's benchmark_serving
// definitions. Streams requests to /v1/completions (or /v1/chat/completions) with Poisson or
// gamma arrivals, then reports throughput and TTFT / TPOT / ITL / E2E latency statistics.
// TTFT: request start → first chunk with content. TPOT: (latency - TTFT) / (output tokens - 1),
// for requests with more than one output token. ITL: gaps between content chunks.
// E2E: request start → last chunk.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace pagellm::server::bench {

struct BenchServeConfig {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string backend = "openai";      // "openai" (completions) or "openai-chat"
  std::string endpoint;                // default per backend
  std::string model;                   // default: first of GET /v1/models
  std::string api_key;
  std::string dataset_name = "random"; // "random" or "jsonl"
  std::string dataset_path;
  int num_prompts = 1000;
  int random_input_len = 1024;
  int random_output_len = 128;
  double random_range_ratio = 0.0;
  int random_vocab_size = 32000;
  double request_rate = std::numeric_limits<double>::infinity();
  double burstiness = 1.0;             // gamma shape; 1 = Poisson
  int max_concurrency = 0;             // 0: unlimited
  uint64_t seed = 0;
  bool ignore_eos = true;
  int io_threads = 1;
  std::string result_filename;
};

struct BenchItem {
  std::string prompt;                  // text prompt (when no token ids)
  std::vector<int32_t> prompt_token_ids;
  int prompt_len = 0;                  // tokens (from the ids or the server's usage)
  int max_tokens = 16;
};

struct RequestOutcome {
  bool success = false;
  std::string error;
  int prompt_len = 0;
  int output_tokens = 0;
  int num_content_chunks = 0;
  double ttft = 0.0;                   // seconds
  double latency = 0.0;                // seconds
  std::vector<double> itl;             // seconds
  std::string generated_text;
};

struct LatencyStats {
  double mean_ms = 0, median_ms = 0, std_ms = 0, p99_ms = 0;
};

struct BenchSummary {
  double duration_s = 0;
  int completed = 0;
  int failed = 0;
  int64_t total_input_tokens = 0;
  int64_t total_output_tokens = 0;
  double request_throughput = 0;       // req/s
  double output_throughput = 0;        // tok/s
  double total_token_throughput = 0;   // tok/s
  LatencyStats ttft, tpot, itl, e2el;
  nlohmann::json ToJson(const BenchServeConfig& config,
                        const std::vector<RequestOutcome>& outcomes) const;
  std::string ToText() const;
};

StatusOr<std::vector<BenchItem>> LoadDataset(const BenchServeConfig& config);
// Runs every item against the server (blocking) and returns one outcome per item, in order.
std::vector<RequestOutcome> RunBenchmark(const BenchServeConfig& config,
                                         const std::vector<BenchItem>& items,
                                         double* duration_s);
BenchSummary Summarize(const std::vector<RequestOutcome>& outcomes, double duration_s);
// numpy-style (linear) percentile of `values` (unsorted), 0 for none.
double Percentile(std::vector<double> values, double p);
// Fetches the first model id from GET /v1/models.
StatusOr<std::string> FetchModelName(const BenchServeConfig& config);

}  // namespace pagellm::server::bench

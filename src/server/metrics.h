// Server-side Prometheus metrics. Names follow vLLM's (vllm:num_requests_running, ...) so
// existing dashboards work; every series is also exported under the "pagellm:" prefix.
// Gauges of the engine state come from EngineClient::GetMetrics() at scrape time; latency
// histograms and token counters are measured here from the output streams.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "server/engine_client.h"

namespace pagellm::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Appends the _bucket/_sum/_count lines of metric `name` with `labels` ("k=\"v\"").
  void Render(const std::string& name, const std::string& labels, std::string* out) const;
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative
  uint64_t count_ = 0;
  double sum_ = 0.0;
};

class ServerMetrics {
 public:
  explicit ServerMetrics(std::string model_name);

  void AddPromptTokens(int64_t n);
  void AddGenerationTokens(int64_t n);
  void ObserveTtft(double seconds);
  void ObserveItl(double seconds);
  void ObserveE2e(double seconds);
  // finished_reason: "stop", "length", "abort", "error".
  void RequestFinished(const std::string& finished_reason);

  // The Prometheus text exposition (format 0.0.4) including the engine snapshot.
  std::string Render(const EngineMetrics& engine) const;

 private:
  std::string model_name_;
  mutable std::mutex mu_;
  int64_t prompt_tokens_ = 0;
  int64_t generation_tokens_ = 0;
  Histogram ttft_;
  Histogram itl_;
  Histogram e2e_;
  std::map<std::string, int64_t> finished_;
};

}  // namespace pagellm::server

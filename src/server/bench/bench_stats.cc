// Benchmark statistics with vLLM's benchmark_serving definitions.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "server/bench/bench_serve.h"

namespace pagellm::server::bench {
namespace {

LatencyStats Stats(const std::vector<double>& seconds) {
  LatencyStats s;
  if (seconds.empty()) return s;
  double mean = std::accumulate(seconds.begin(), seconds.end(), 0.0) / seconds.size();
  double var = 0;
  for (double v : seconds) var += (v - mean) * (v - mean);
  s.mean_ms = mean * 1000;
  s.std_ms = std::sqrt(var / seconds.size()) * 1000;  // numpy's population std
  s.median_ms = Percentile(seconds, 50) * 1000;
  s.p99_ms = Percentile(seconds, 99) * 1000;
  return s;
}

void AddStats(nlohmann::json& j, const char* name, const LatencyStats& s) {
  j[fmt::format("mean_{}_ms", name)] = s.mean_ms;
  j[fmt::format("median_{}_ms", name)] = s.median_ms;
  j[fmt::format("std_{}_ms", name)] = s.std_ms;
  j[fmt::format("p99_{}_ms", name)] = s.p99_ms;
}

}  // namespace

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  double rank = p / 100.0 * (v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

BenchSummary Summarize(const std::vector<RequestOutcome>& outcomes, double duration_s) {
  BenchSummary s;
  s.duration_s = duration_s;
  std::vector<double> ttfts, tpots, itls, e2els;
  for (const auto& o : outcomes) {
    if (!o.success) {
      ++s.failed;
      continue;
    }
    ++s.completed;
    s.total_input_tokens += o.prompt_len;
    s.total_output_tokens += o.output_tokens;
    ttfts.push_back(o.ttft);
    e2els.push_back(o.latency);
    itls.insert(itls.end(), o.itl.begin(), o.itl.end());
    if (o.output_tokens > 1) tpots.push_back((o.latency - o.ttft) / (o.output_tokens - 1));
  }
  if (duration_s > 0) {
    s.request_throughput = s.completed / duration_s;
    s.output_throughput = s.total_output_tokens / duration_s;
    s.total_token_throughput = (s.total_input_tokens + s.total_output_tokens) / duration_s;
  }
  s.ttft = Stats(ttfts);
  s.tpot = Stats(tpots);
  s.itl = Stats(itls);
  s.e2el = Stats(e2els);
  return s;
}

nlohmann::json BenchSummary::ToJson(const BenchServeConfig& c,
                                    const std::vector<RequestOutcome>& outcomes) const {
  nlohmann::json j = {{"backend", c.backend}, {"model_id", c.model},
                      {"num_prompts", static_cast<int>(outcomes.size())},
                      {"request_rate", std::isinf(c.request_rate) ? nlohmann::json("inf")
                                                                  : nlohmann::json(c.request_rate)},
                      {"burstiness", c.burstiness},
                      {"max_concurrency", c.max_concurrency > 0 ? nlohmann::json(c.max_concurrency)
                                                                : nlohmann::json(nullptr)},
                      {"duration", duration_s}, {"completed", completed}, {"failed", failed},
                      {"total_input_tokens", total_input_tokens},
                      {"total_output_tokens", total_output_tokens},
                      {"request_throughput", request_throughput},
                      {"output_throughput", output_throughput},
                      {"total_token_throughput", total_token_throughput}};
  AddStats(j, "ttft", ttft);
  AddStats(j, "tpot", tpot);
  AddStats(j, "itl", itl);
  AddStats(j, "e2el", e2el);
  nlohmann::json in = nlohmann::json::array(), out = nlohmann::json::array(),
                 tt = nlohmann::json::array(), errors = nlohmann::json::array();
  for (const auto& o : outcomes) {
    in.push_back(o.prompt_len);
    out.push_back(o.output_tokens);
    tt.push_back(o.ttft);
    errors.push_back(o.error);
  }
  j["input_lens"] = in;
  j["output_lens"] = out;
  j["ttfts"] = tt;
  j["errors"] = errors;
  return j;
}

std::string BenchSummary::ToText() const {
  std::string t = "============ Serving Benchmark Result ============\n";
  auto row = [&](const std::string& k, const std::string& v) {
    t += fmt::format("{:<40}{:>10}\n", k, v);
  };
  row("Successful requests:", std::to_string(completed));
  row("Failed requests:", std::to_string(failed));
  row("Benchmark duration (s):", fmt::format("{:.2f}", duration_s));
  row("Total input tokens:", std::to_string(total_input_tokens));
  row("Total generated tokens:", std::to_string(total_output_tokens));
  row("Request throughput (req/s):", fmt::format("{:.2f}", request_throughput));
  row("Output token throughput (tok/s):", fmt::format("{:.2f}", output_throughput));
  row("Total Token throughput (tok/s):", fmt::format("{:.2f}", total_token_throughput));
  auto section = [&](const char* title, const char* abbr, const LatencyStats& s) {
    t += fmt::format("{:-^50}\n", title);
    row(fmt::format("Mean {} (ms):", abbr), fmt::format("{:.2f}", s.mean_ms));
    row(fmt::format("Median {} (ms):", abbr), fmt::format("{:.2f}", s.median_ms));
    row(fmt::format("P99 {} (ms):", abbr), fmt::format("{:.2f}", s.p99_ms));
  };
  section("Time to First Token", "TTFT", ttft);
  section("Time per Output Token (excl. 1st token)", "TPOT", tpot);
  section("Inter-token Latency", "ITL", itl);
  section("End-to-end Latency", "E2EL", e2el);
  t += std::string(50, '=') + "\n";
  return t;
}

}  // namespace pagellm::server::bench

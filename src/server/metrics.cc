#include "server/metrics.h"

#include <algorithm>

#include <fmt/format.h>

namespace pagellm::server {
namespace {

// vLLM's bucket boundaries.
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                          0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0,
                                          20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kItlBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                         0.3,  0.4,   0.5,  0.75,  1.0, 2.5,  5.0,
                                         7.5,  10.0,  20.0, 40.0,  80.0};
const std::vector<double> kE2eBuckets = {0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,
                                         5.0,  10.0, 15.0, 20.0, 30.0,  40.0,  50.0,
                                         60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
const char* kPrefixes[] = {"vllm:", "pagellm:"};

std::string Num(double v) { return fmt::format("{}", v); }

void Header(std::string* out, const std::string& name, const char* type, const char* help) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string EscapeLabel(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  ++counts_[i];
  ++count_;
  sum_ += v;
}

void Histogram::Render(const std::string& name, const std::string& labels,
                       std::string* out) const {
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    *out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, Num(bounds_[i]), cum);
  }
  *out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count_);
  *out += fmt::format("{}_sum{{{}}} {}\n", name, labels, Num(sum_));
  *out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_);
}

ServerMetrics::ServerMetrics(std::string model_name)
    : model_name_(std::move(model_name)), ttft_(kTtftBuckets), itl_(kItlBuckets),
      e2e_(kE2eBuckets) {}

void ServerMetrics::AddPromptTokens(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  prompt_tokens_ += n;
}
void ServerMetrics::AddGenerationTokens(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  generation_tokens_ += n;
}
void ServerMetrics::ObserveTtft(double s) {
  std::lock_guard<std::mutex> lock(mu_);
  ttft_.Observe(s);
}
void ServerMetrics::ObserveItl(double s) {
  std::lock_guard<std::mutex> lock(mu_);
  itl_.Observe(s);
}
void ServerMetrics::ObserveE2e(double s) {
  std::lock_guard<std::mutex> lock(mu_);
  e2e_.Observe(s);
}
void ServerMetrics::RequestFinished(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++finished_[reason];
}

std::string ServerMetrics::Render(const EngineMetrics& e) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  const std::string labels = "model_name=\"" + EscapeLabel(model_name_) + "\"";
  for (const char* p : kPrefixes) {
    const std::string pre = p;
    auto gauge = [&](const char* name, const char* help, double v) {
      Header(&out, pre + name, "gauge", help);
      out += fmt::format("{}{}{{{}}} {}\n", pre, name, labels, Num(v));
    };
    auto counter = [&](const char* name, const char* help, double v) {
      Header(&out, pre + name, "counter", help);
      out += fmt::format("{}{}{{{}}} {}\n", pre, name, labels, Num(v));
    };
    gauge("num_requests_running", "Number of requests in model execution batches.",
          e.num_requests_running);
    gauge("num_requests_waiting", "Number of requests waiting to be processed.",
          e.num_requests_waiting);
    gauge("kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", e.kv_cache_usage);
    gauge("gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.",
          e.kv_cache_usage);
    counter("prefix_cache_queries_total", "Prefix cache queries, in terms of tokens.",
            static_cast<double>(e.prefix_cache_queries));
    counter("prefix_cache_hits_total", "Prefix cache hits, in terms of tokens.",
            static_cast<double>(e.prefix_cache_hits));
    counter("num_preemptions_total", "Cumulative number of preemptions from the engine.",
            static_cast<double>(e.num_preemptions));
    counter("prompt_tokens_total", "Number of prefill tokens processed.",
            static_cast<double>(prompt_tokens_));
    counter("generation_tokens_total", "Number of generation tokens processed.",
            static_cast<double>(generation_tokens_));
    Header(&out, pre + "request_success_total", "counter", "Count of finished requests.");
    for (const auto& [reason, n] : finished_) {
      out += fmt::format("{}request_success_total{{{},finished_reason=\"{}\"}} {}\n", pre, labels,
                         EscapeLabel(reason), n);
    }
    Header(&out, pre + "time_to_first_token_seconds", "histogram",
           "Histogram of time to first token in seconds.");
    ttft_.Render(pre + "time_to_first_token_seconds", labels, &out);
    Header(&out, pre + "inter_token_latency_seconds", "histogram",
           "Histogram of inter-token latency in seconds.");
    itl_.Render(pre + "inter_token_latency_seconds", labels, &out);
    Header(&out, pre + "time_per_output_token_seconds", "histogram",
           "Histogram of time per output token in seconds (same as inter-token latency).");
    itl_.Render(pre + "time_per_output_token_seconds", labels, &out);
    Header(&out, pre + "e2e_request_latency_seconds", "histogram",
           "Histogram of end to end request latency in seconds.");
    e2e_.Render(pre + "e2e_request_latency_seconds", labels, &out);
  }
  return out;
}

}  // namespace pagellm::server

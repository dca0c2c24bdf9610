// `pagellm bench serve`: online serving benchmark against a running OpenAI-compatible server
// (ours or vLLM), with vLLM benchmark_serving's flags and metric definitions.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "server/bench/bench_serve.h"
#include "tools/pagellm/bench_group.h"
#include "tools/pagellm/commands.h"

namespace pagellm::cli {
namespace {

using server::bench::BenchServeConfig;

int RunBenchServe(BenchServeConfig& c) {
  if (c.api_key.empty()) {
    if (const char* k = std::getenv("OPENAI_API_KEY"); k && *k) c.api_key = k;
  }
  if (c.burstiness <= 0) {
    std::fprintf(stderr, "bench serve: --burstiness must be > 0\n");
    return 2;
  }
  if (c.model.empty()) {
    auto name = server::bench::FetchModelName(c);
    if (!name.ok()) {
      std::fprintf(stderr, "bench serve: %s\n", name.status().ToString().c_str());
      return 1;
    }
    c.model = *name;
  }
  auto items = server::bench::LoadDataset(c);
  if (!items.ok()) {
    std::fprintf(stderr, "bench serve: %s\n", items.status().ToString().c_str());
    return 2;
  }
  std::printf("bench serve: %zu requests to %s:%d (%s), rate %g, max concurrency %d\n",
              items->size(), c.host.c_str(), c.port, c.model.c_str(), c.request_rate,
              c.max_concurrency);
  std::fflush(stdout);
  double duration = 0;
  auto outcomes = server::bench::RunBenchmark(c, *items, &duration);
  auto summary = server::bench::Summarize(outcomes, duration);
  std::printf("%s", summary.ToText().c_str());
  for (const auto& o : outcomes) {
    if (!o.success) {
      std::fprintf(stderr, "first failure: %s\n", o.error.c_str());
      break;
    }
  }
  if (!c.result_filename.empty()) {
    std::ofstream out(c.result_filename);
    out << summary.ToJson(c, outcomes).dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "bench serve: cannot write %s\n", c.result_filename.c_str());
      return 1;
    }
  }
  return summary.failed == 0 ? 0 : 1;
}

}  // namespace

Command RegisterBenchServe(CLI::App& app) {
  CLI::App* bench = GetOrAddBench(app);
  auto* sub = bench->add_subcommand("serve", "Online serving benchmark (vLLM benchmark_serving)");
  auto c = std::make_shared<BenchServeConfig>();
  sub->add_option("--host", c->host)->capture_default_str();
  sub->add_option("--port", c->port)->capture_default_str();
  sub->add_option("--backend", c->backend, "openai (completions) or openai-chat")
      ->check(CLI::IsMember({"openai", "openai-chat", "vllm"}))->capture_default_str();
  sub->add_option("--endpoint", c->endpoint, "API path (default per backend)");
  sub->add_option("--model", c->model, "Model name (default: the server's first)");
  sub->add_option("--api-key", c->api_key, "Bearer key (default: $OPENAI_API_KEY)");
  sub->add_option("--dataset-name", c->dataset_name, "random or jsonl")->capture_default_str();
  sub->add_option("--dataset-path", c->dataset_path,
                  "JSONL of {prompt|prompt_token_ids, max_tokens}");
  sub->add_option("--num-prompts", c->num_prompts)->capture_default_str();
  sub->add_option("--random-input-len", c->random_input_len)->capture_default_str();
  sub->add_option("--random-output-len", c->random_output_len)->capture_default_str();
  sub->add_option("--random-range-ratio", c->random_range_ratio)->capture_default_str();
  sub->add_option("--random-vocab-size", c->random_vocab_size, "Ids of random prompts < this")
      ->capture_default_str();
  sub->add_option("--request-rate", c->request_rate, "Requests/s (inf: all at once)")
      ->capture_default_str();
  sub->add_option("--burstiness", c->burstiness, "Gamma shape of arrivals (1 = Poisson)")
      ->capture_default_str();
  sub->add_option("--max-concurrency", c->max_concurrency, "Max requests in flight (0: no cap)");
  sub->add_option("--seed", c->seed)->capture_default_str();
  sub->add_option("--result-filename", c->result_filename, "Write the results as JSON here");
  sub->add_flag("--ignore-eos,!--no-ignore-eos", c->ignore_eos,
                "Ask for exactly max_tokens tokens (default on)");
  return {sub, [c] { return RunBenchServe(*c); }};
}

}  // namespace pagellm::cli

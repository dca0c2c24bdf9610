// engine_bench: offline throughput of LLM::Generate on a token-id workload (the JSON lines of
// /work/shared/bench/workload.py: {"prompt_token_ids": [...], "max_tokens": M}), the way vLLM's
// benchmark_throughput measures it: all requests submitted at once, EOS ignored, so every request
// generates exactly M tokens. Prints output tokens/s (and total tokens/s).
// Usage: engine_bench --model DIR --workload FILE.jsonl [--num-requests N] [--dtype bfloat16]
//        [--device auto] [--load-format dummy] [--max-num-seqs 256] [--gpu-memory-utilization 0.9]
//        [--max-num-batched-tokens T] [--temperature 1.0]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "engine/llm.h"

namespace pagellm {
namespace {

struct Workload {
  std::vector<PromptInput> prompts;
  std::vector<SamplingParams> params;
  int64_t prompt_tokens = 0;
};

StatusOr<Workload> ReadWorkload(const std::string& path, int64_t limit, double temperature) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot open workload " + path);
  Workload w;
  std::string line;
  while (static_cast<int64_t>(w.prompts.size()) < limit && std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("prompt_token_ids") || !j.contains("max_tokens"))
      return InvalidArgumentError("bad workload line: " + line.substr(0, 80));
    std::vector<int32_t> ids = j["prompt_token_ids"].get<std::vector<int32_t>>();
    w.prompt_tokens += static_cast<int64_t>(ids.size());
    w.prompts.push_back(PromptInput::Ids(std::move(ids)));
    SamplingParams p;
    p.temperature = temperature;
    p.max_tokens = j["max_tokens"].get<int>();
    p.ignore_eos = true;
    p.detokenize = false;
    w.params.push_back(p);
  }
  if (w.prompts.empty()) return InvalidArgumentError("workload " + path + " has no requests");
  return w;
}

int Run(EngineArgs args, const std::string& workload, int64_t n, double temperature) {
  auto wl = ReadWorkload(workload, n, temperature);
  if (!wl.ok()) {
    fmt::print(stderr, "error: {}\n", wl.status().ToString());
    return 1;
  }
  auto t_load = std::chrono::steady_clock::now();
  auto llm = LLM::Create(args);
  if (!llm.ok()) {
    fmt::print(stderr, "error: {}\n", llm.status().ToString());
    return 1;
  }
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  fmt::print("engine ready in {:.1f} s\n", load_s);
  // Warm-up (GEMM algorithm choice, allocator cache) outside the timed region.
  SamplingParams warm = wl->params[0];
  warm.max_tokens = 8;
  auto w = (*llm)->Generate({wl->prompts[0]}, {warm});
  if (!w.ok()) {
    fmt::print(stderr, "warm-up failed: {}\n", w.status().ToString());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto outs = (*llm)->Generate(wl->prompts, wl->params);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!outs.ok()) {
    fmt::print(stderr, "generate failed: {}\n", outs.status().ToString());
    return 1;
  }
  int64_t out_tokens = 0, errors = 0;
  for (const RequestOutput& o : *outs) {
    if (o.error) ++errors;
    for (const CompletionOutput& c : o.outputs) out_tokens += static_cast<int64_t>(c.token_ids.size());
  }
  fmt::print("requests: {} ({} failed), prompt tokens: {}, output tokens: {}\n", outs->size(),
             errors, wl->prompt_tokens, out_tokens);
  fmt::print("elapsed: {:.2f} s\n", s);
  fmt::print("output tokens/s: {:.1f}\n", out_tokens / s);
  fmt::print("total tokens/s: {:.1f}\n", (out_tokens + wl->prompt_tokens) / s);
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace pagellm

int main(int argc, char** argv) {
  CLI::App app{"engine_bench: offline throughput of LLM::Generate on a token-id workload"};
  pagellm::EngineArgs args;
  args.load_format = "dummy";
  args.dtype = "bfloat16";
  args.skip_tokenizer_init = true;
  args.generation_config = "vllm";
  std::string workload;
  int64_t n = 128;
  double temperature = 1.0;
  int32_t max_batched = 0;
  app.add_option("--model", args.model, "model dir (config.json; weights unless dummy)")->required();
  app.add_option("--workload", workload, "JSON lines from workload.py")->required();
  app.add_option("--num-requests", n, "first N requests of the workload");
  app.add_option("--dtype", args.dtype);
  app.add_option("--device", args.device);
  app.add_option("--load-format", args.load_format);
  app.add_option("--max-num-seqs", args.max_num_seqs);
  app.add_option("--gpu-memory-utilization", args.gpu_memory_utilization);
  app.add_option("--max-num-batched-tokens", max_batched);
  app.add_option("--max-model-len", args.max_model_len);
  app.add_option("--temperature", temperature);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (max_batched > 0) args.max_num_batched_tokens = max_batched;
  return pagellm::Run(args, workload, n, temperature);
}

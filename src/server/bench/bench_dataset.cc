// Datasets of `pagellm bench serve`: random token ids, or JSON lines
// {"prompt" | "prompt_token_ids", "max_tokens" | "output_len"} (shared/bench/workload.py).
#include <fstream>
#include <random>

#include "server/bench/bench_serve.h"

namespace pagellm::server::bench {
namespace {

using Json = nlohmann::json;

std::vector<BenchItem> RandomDataset(const BenchServeConfig& c) {
  std::mt19937_64 rng(c.seed);
  auto range = [&](int len) {
    int lo = std::max(1, static_cast<int>(len * (1.0 - c.random_range_ratio)));
    int hi = std::max(lo, static_cast<int>(len * (1.0 + c.random_range_ratio)));
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  std::uniform_int_distribution<int> offset_dist(0, std::max(1, c.random_vocab_size) - 1);
  std::vector<BenchItem> items;
  for (int i = 0; i < c.num_prompts; ++i) {
    BenchItem item;
    int in_len = range(c.random_input_len);
    item.max_tokens = range(c.random_output_len);
    int offset = offset_dist(rng);
    // vLLM's random dataset: consecutive ids from a random offset, distinct per request.
    for (int j = 0; j < in_len; ++j) {
      item.prompt_token_ids.push_back((offset + i + j) % std::max(1, c.random_vocab_size));
    }
    item.prompt_len = in_len;
    if (c.backend == "openai-chat") {  // chat needs text: one short word per token
      static const char* kWords[] = {"alpha", "bravo", "delta", "echo", "gamma", "kilo"};
      for (int32_t id : item.prompt_token_ids) item.prompt += std::string(kWords[id % 6]) + " ";
      item.prompt_token_ids.clear();
    }
    items.push_back(std::move(item));
  }
  return items;
}

StatusOr<std::vector<BenchItem>> JsonlDataset(const BenchServeConfig& c) {
  std::ifstream in(c.dataset_path);
  if (!in) return NotFoundError("cannot open dataset " + c.dataset_path);
  std::vector<BenchItem> items;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line) && static_cast<int>(items.size()) < c.num_prompts) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j = Json::parse(line, nullptr, false);
    std::string where = c.dataset_path + ":" + std::to_string(line_no);
    if (j.is_discarded() || !j.is_object()) return InvalidArgumentError(where + ": not a JSON object");
    BenchItem item;
    try {
      if (j.contains("prompt_token_ids")) {
        item.prompt_token_ids = j["prompt_token_ids"].get<std::vector<int32_t>>();
        item.prompt_len = static_cast<int>(item.prompt_token_ids.size());
      } else if (j.contains("prompt")) {
        item.prompt = j["prompt"].get<std::string>();
      } else {
        return InvalidArgumentError(where + ": needs 'prompt' or 'prompt_token_ids'");
      }
      if (j.contains("max_tokens")) item.max_tokens = j["max_tokens"].get<int>();
      else if (j.contains("output_len")) item.max_tokens = j["output_len"].get<int>();
    } catch (const Json::exception& e) {
      return InvalidArgumentError(where + ": " + e.what());
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) return InvalidArgumentError("dataset " + c.dataset_path + " is empty");
  return items;
}

}  // namespace

StatusOr<std::vector<BenchItem>> LoadDataset(const BenchServeConfig& config) {
  if (config.num_prompts < 1) return InvalidArgumentError("--num-prompts must be >= 1");
  if (config.dataset_name == "random") return RandomDataset(config);
  if (config.dataset_name == "jsonl" || !config.dataset_path.empty()) return JsonlDataset(config);
  return InvalidArgumentError("unknown --dataset-name " + config.dataset_name);
}

}  // namespace pagellm::server::bench

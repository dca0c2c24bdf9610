#include "server/server_args.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

namespace pagellm::server {

void ServerArgs::Register(CLI::App& app) {
  app.add_option("model", model, "Model: a Hugging Face repo id or a local directory");
  app.add_option("--host", host, "Host name to listen on")->capture_default_str();
  app.add_option("--port", port, "Port to listen on (0: any free port)")->capture_default_str();
  app.add_option("--api-key", api_key, "Require this key in 'Authorization: Bearer' on /v1 "
                                       "routes (default: $PAGELLM_API_KEY)");
  app.add_option("--served-model-name", served_model_name, "Model name(s) in the API");
  app.add_option("--chat-template", chat_template, "Chat template file or inline template");
  app.add_option("--generation-config", generation_config,
                 "'auto' (model's generation_config.json), 'vllm' (none) or a directory")
      ->capture_default_str();
  app.add_option("--max-model-len", max_model_len, "Context length (default: model's)");
  app.add_option("--dtype", dtype, "auto, float16, bfloat16, float32")->capture_default_str();
  app.add_option("--device", device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--load-format", load_format, "auto, safetensors, pt, dummy")
      ->capture_default_str();
  app.add_option("--tokenizer", tokenizer, "Tokenizer repo or directory (default: the model)");
  app.add_option("--revision", revision, "Model revision (branch, tag or commit)");
  app.add_flag("--skip-tokenizer-init", skip_tokenizer_init,
               "No tokenizer: prompts and outputs are token ids");
  app.add_option("--seed", seed, "Random seed")->capture_default_str();
  app.add_option("--max-num-seqs", max_num_seqs, "Max sequences per step")->capture_default_str();
  app.add_option("--max-num-batched-tokens", max_num_batched_tokens, "Token budget per step");
  app.add_option("--gpu-memory-utilization", gpu_memory_utilization,
                 "Fraction of GPU memory to use")->capture_default_str();
  app.add_option("--kv-cache-memory", kv_cache_memory,
                 "KV cache size in bytes (suffixes: 64MiB, 4G; overrides "
                 "--gpu-memory-utilization; CPU default 4 GiB)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--block-size", block_size, "Tokens per KV block")->capture_default_str();
  app.add_flag("--enable-prefix-caching,!--no-enable-prefix-caching", enable_prefix_caching,
               "Automatic prefix caching (default on)");
  app.add_option("--tensor-parallel-size", tensor_parallel_size, "Tensor-parallel ranks")
      ->capture_default_str();
  app.add_option("--max-logprobs", max_logprobs, "Max logprobs per token a request may ask")
      ->capture_default_str();
  app.add_flag("--return-tokens-as-token-ids", return_tokens_as_token_ids,
               "Render logprob tokens as 'token_id:N'");
  app.add_flag("--disable-log-requests", disable_log_requests, "Do not log each request");
  app.add_option("--allowed-origins", allowed_origins,
                 "CORS origins (JSON list or values; default [\"*\"])");
  app.add_flag("--enforce-eager", enforce_eager, "No CUDA graphs");
  app.add_flag("--async-scheduling", async_scheduling,
               "Schedule and enqueue step N+1 before reading step N's tokens (off by default)");
  app.add_option("--num-gpu-blocks-override", num_gpu_blocks_override, "KV blocks to allocate");
  app.add_option("--scheduling-policy", scheduling_policy,
                 "fcfs, or priority (lower request 'priority' first)")
      ->check(CLI::IsMember({"fcfs", "priority"}))->capture_default_str();
  app.add_flag("--batch-invariant", batch_invariant,
               "Outputs independent of batching, bit for bit (slower)");
  app.add_option("--io-threads", io_threads, "HTTP I/O threads")->capture_default_str();
  app.add_option("--max-request-body-bytes", max_request_body_bytes, "Body limit (413 beyond)")
      ->capture_default_str();
  app.add_option("--shutdown-grace", shutdown_grace_s,
                 "Seconds in-flight requests get on SIGINT/SIGTERM")->capture_default_str();
  app.add_flag("--fake-engine", fake_engine, "Serve a fake engine (testing)")->group("");
}

Status ServerArgs::Finalize() {
  if (api_key.empty()) {
    for (const char* env : {"PAGELLM_API_KEY", "VLLM_API_KEY"}) {
      if (const char* v = std::getenv(env); v && *v) {
        api_key = v;
        break;
      }
    }
  }
  // vLLM takes a JSON list ('["http://a"]'); CLI11 may already have split its brackets off.
  std::vector<std::string> origins;
  for (std::string o : allowed_origins) {
    auto j = nlohmann::json::parse(o, nullptr, false);
    if (!j.is_discarded() && j.is_array()) {
      for (const auto& e : j) {
        if (!e.is_string()) return InvalidArgumentError("--allowed-origins: list of strings");
        origins.push_back(e.get<std::string>());
      }
      continue;
    }
    const char* strip = " \t[]\"'";
    size_t b = o.find_first_not_of(strip), e = o.find_last_not_of(strip);
    if (b != std::string::npos) origins.push_back(o.substr(b, e - b + 1));
  }
  allowed_origins = std::move(origins);
  if (port < 0 || port > 65535) return InvalidArgumentError("--port must be in 0..65535");
  if (max_model_len < 0) return InvalidArgumentError("--max-model-len must be positive");
  if (max_num_seqs < 1) return InvalidArgumentError("--max-num-seqs must be >= 1");
  if (!(gpu_memory_utilization > 0.0 && gpu_memory_utilization <= 1.0)) {
    return InvalidArgumentError("--gpu-memory-utilization must be in (0, 1]");
  }
  if (block_size < 1) return InvalidArgumentError("--block-size must be >= 1");
  if (tensor_parallel_size < 1) return InvalidArgumentError("--tensor-parallel-size must be >= 1");
  if (kv_cache_memory < 0) return InvalidArgumentError("--kv-cache-memory must be > 0 bytes");
  if (max_logprobs < 0) return InvalidArgumentError("--max-logprobs must be >= 0");
  if (io_threads < 1 || io_threads > 64) return InvalidArgumentError("--io-threads: 1..64");
  if (max_request_body_bytes < 1024) return InvalidArgumentError("--max-request-body-bytes too small");
  if (model.empty() && !fake_engine) return InvalidArgumentError("a model is required");
  return OkStatus();
}

std::vector<std::string> ServerArgs::ServedModelNames() const {
  if (!served_model_name.empty()) return served_model_name;
  return {model.empty() ? std::string("fake-model") : model};
}

ApiServerOptions ServerArgs::ToApiServerOptions() const {
  ApiServerOptions o;
  o.http.host = host;
  o.http.port = port;
  o.http.io_threads = io_threads;
  o.http.max_body_bytes = static_cast<size_t>(max_request_body_bytes);
  o.http.allowed_origins = allowed_origins;
  o.serving.api_key = api_key;
  o.serving.return_tokens_as_token_ids = return_tokens_as_token_ids;
  o.serving.disable_log_requests = disable_log_requests;
  o.shutdown_grace = std::chrono::seconds(shutdown_grace_s);
  return o;
}

}  // namespace pagellm::server

#include "tools/pagellm/engine_flags.h"

#include <string>

namespace pagellm::cli {
namespace {

// Optional-valued flags go through callbacks so that "not given" stays nullopt (the engine's
// own default) whatever CLI11's std::optional support is.
template <typename T>
void AddOptional(CLI::App& app, const std::string& name, std::optional<T>& out,
                 const std::string& help) {
  app.add_option_function<T>(name, [&out](const T& v) { out = v; }, help);
}

void RegisterModelFlags(CLI::App& app, EngineArgs& a, bool model_positional) {
  if (model_positional) {
    app.add_option("model", a.model, "Model: a Hugging Face repo id or a local directory")
        ->required();
  } else {
    app.add_option("--model", a.model, "Model: a Hugging Face repo id or a local directory")
        ->required();
  }
  AddOptional(app, "--tokenizer", a.tokenizer, "Tokenizer repo or directory (default: the model)");
  app.add_option("--revision", a.revision, "Model revision (branch, tag or commit)")
      ->capture_default_str();
  app.add_option("--dtype", a.dtype, "auto, float32, float16, bfloat16 (half, float)")
      ->capture_default_str();
  app.add_option("--device", a.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--load-format", a.load_format, "auto, safetensors, pt, dummy (random weights)")
      ->capture_default_str();
  AddOptional(app, "--max-model-len", a.max_model_len, "Context length (default: the model's)");
  app.add_flag("--skip-tokenizer-init", a.skip_tokenizer_init,
               "No tokenizer: prompts and outputs are token ids");
  app.add_option("--generation-config", a.generation_config,
                 "'auto' (the model's generation_config.json), 'vllm' (none) or a directory")
      ->capture_default_str();
  AddOptional(app, "--chat-template", a.chat_template, "Chat template file or inline template");
}

void RegisterCacheAndSchedulerFlags(CLI::App& app, EngineArgs& a) {
  app.add_option("--block-size", a.block_size, "Tokens per KV block")->capture_default_str();
  app.add_option("--gpu-memory-utilization", a.gpu_memory_utilization,
                 "Fraction of GPU memory to use")->capture_default_str();
  AddOptional(app, "--kv-cache-memory", a.kv_cache_memory,
              "KV cache size in bytes (overrides --gpu-memory-utilization; CPU default 4 GiB)");
  AddOptional(app, "--num-gpu-blocks-override", a.num_gpu_blocks_override,
              "KV blocks to allocate (ignores the memory profile)");
  app.add_option("--max-num-seqs", a.max_num_seqs, "Max sequences per step")
      ->capture_default_str();
  AddOptional(app, "--max-num-batched-tokens", a.max_num_batched_tokens,
              "Token budget per step (default max(8192, max_model_len))");
  app.add_flag("--enable-prefix-caching,!--no-enable-prefix-caching", a.enable_prefix_caching,
               "Automatic prefix caching (default on)");
  app.add_flag("--enable-chunked-prefill,!--no-enable-chunked-prefill", a.enable_chunked_prefill,
               "Chunked prefill (default on)");
  app.add_option("--scheduling-policy", a.scheduling_policy, "fcfs or priority")
      ->check(CLI::IsMember({"fcfs", "priority"}))->capture_default_str();
  app.add_option("--seed", a.seed, "Random seed")->capture_default_str();
  app.add_option("--tensor-parallel-size", a.tensor_parallel_size, "Tensor-parallel ranks")
      ->capture_default_str();
  app.add_option("--max-logprobs", a.max_logprobs, "Max logprobs per token a request may ask")
      ->capture_default_str();
  app.add_flag("--enforce-eager", a.enforce_eager, "No CUDA graphs");
  app.add_flag("--async-scheduling", a.async_scheduling,
               "Schedule and enqueue step N+1 before reading step N's tokens (off by default)");
}

}  // namespace

void RegisterEngineArgs(CLI::App& app, EngineArgs& args, bool model_positional) {
  RegisterModelFlags(app, args, model_positional);
  RegisterCacheAndSchedulerFlags(app, args);
}

Status ValidateEngineArgs(const EngineArgs& a) {
  if (a.model.empty()) return InvalidArgumentError("a model is required (--model)");
  if (a.max_model_len && *a.max_model_len < 1) {
    return InvalidArgumentError("--max-model-len must be >= 1");
  }
  if (a.block_size < 1) return InvalidArgumentError("--block-size must be >= 1");
  if (!(a.gpu_memory_utilization > 0.0 && a.gpu_memory_utilization <= 1.0)) {
    return InvalidArgumentError("--gpu-memory-utilization must be in (0, 1]");
  }
  if (a.kv_cache_memory && *a.kv_cache_memory < 1) {
    return InvalidArgumentError("--kv-cache-memory must be > 0 bytes");
  }
  if (a.num_gpu_blocks_override && *a.num_gpu_blocks_override < 1) {
    return InvalidArgumentError("--num-gpu-blocks-override must be >= 1");
  }
  if (a.max_num_seqs < 1) return InvalidArgumentError("--max-num-seqs must be >= 1");
  if (a.max_num_batched_tokens && *a.max_num_batched_tokens < 1) {
    return InvalidArgumentError("--max-num-batched-tokens must be >= 1");
  }
  if (a.tensor_parallel_size < 1) {
    return InvalidArgumentError("--tensor-parallel-size must be >= 1");
  }
  if (a.max_logprobs < -1) return InvalidArgumentError("--max-logprobs must be >= -1");
  return OkStatus();
}

}  // namespace pagellm::cli

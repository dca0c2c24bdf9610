// EngineArgs: the engine's configuration, with vLLM's flag names (the CLI, the server and the
// Python module all fill this one struct). Resolved against the model once in LLMEngine::Create.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pagellm {

struct EngineArgs {
  std::string model;                   // local dir or Hugging Face repo id
  std::optional<std::string> tokenizer;  // defaults to model
  std::string revision = "main";
  std::string dtype = "auto";          // auto | float32 | float16 | bfloat16 (| half | float)
  std::string device = "auto";         // auto | cpu | cuda | cuda:N
  std::string load_format = "auto";    // auto | safetensors | pt | dummy
  std::optional<int64_t> max_model_len;
  int32_t block_size = 16;
  double gpu_memory_utilization = 0.9;
  std::optional<int64_t> kv_cache_memory;       // bytes; CPU default below
  std::optional<int64_t> num_gpu_blocks_override;
  int32_t max_num_seqs = 256;
  std::optional<int32_t> max_num_batched_tokens;  // default max(8192, max_model_len)
  bool enable_prefix_caching = true;
  bool enable_chunked_prefill = true;
  std::string scheduling_policy = "fcfs";  // fcfs | priority
  uint64_t seed = 0;
  bool skip_tokenizer_init = false;
  std::string generation_config = "auto";  // auto (from the model dir) | vllm (ignore) | a dir
  int32_t tensor_parallel_size = 1;
  int64_t max_logprobs = 20;
  bool enforce_eager = false;
  // vLLM's --async-scheduling: step N+1 is scheduled and enqueued before the host reads step
  // N's tokens (LLMEngine). Needs device sampling: CPU models then sample with the op path.
  bool async_scheduling = false;
  // Tests: CPU models sample with ops::SampleRows like CUDA models (SamplingPath::kOp).
  bool op_sampling = false;
  // Results of a request independent of the batch it runs in, bit for bit (slower GEMMs on
  // CPU); what the batched == one-by-one invariant tests run with.
  bool batch_invariant = false;
  std::optional<std::string> chat_template;  // a file path or the template text
};

// The CPU KV cache default when --kv-cache-memory is not given (vLLM's VLLM_CPU_KVCACHE_SPACE
// default is 4 GiB).
inline constexpr int64_t kDefaultCpuKVCacheBytes = int64_t{4} << 30;

}  // namespace pagellm

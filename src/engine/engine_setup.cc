#include "engine/engine_setup.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/file.h"
#include "base/logging.h"
#include "kv/kv_cache_utils.h"
#include "model/hub.h"

namespace pagellm {

StatusOr<Device> ResolveDevice(const std::string& flag) {
  if (flag == "auto") {
    Allocator* cuda = GetAllocator(Device::Cuda(0));
    if (cuda && cuda->GetMemoryInfo().ok()) return Device::Cuda(0);
    return Device::Cpu();
  }
  ASSIGN_OR_RETURN(Device d, ParseDevice(flag));
  if (d.is_cuda()) {
    Allocator* alloc = GetAllocator(d);
    if (!alloc) {
      return UnavailableError("--device " + flag + ": this build of pagellm has no CUDA backend "
                              "(rebuild with -DPAGELLM_CUDA=ON)");
    }
    // cudaMemGetInfo fails when the device does not exist or no driver is loaded.
    Status s = alloc->GetMemoryInfo().status();
    if (!s.ok()) return UnavailableError("--device " + flag + ": " + s.message());
  }
  return d;
}

StatusOr<std::string> ResolveModelDir(const std::string& model, const std::string& revision,
                                      const std::string& load_format) {
  if (IsDirectory(model)) return model;
  if (!IsRepoId(model)) {
    return NotFoundError("model '" + model + "' is neither a local directory nor a Hugging Face "
                         "repo id (org/name)");
  }
  HubOptions opts = HubOptions::FromEnv();
  opts.revision = revision;
  ASSIGN_OR_RETURN(opts.load_format, ParseLoadFormat(load_format));
  return ResolveModelPath(model, opts);
}

StatusOr<GenerationConfig> LoadGenerationDefaults(const std::string& flag,
                                                  const std::string& model_dir) {
  if (flag == "vllm") return GenerationConfig{};
  return LoadGenerationConfig(flag == "auto" ? model_dir : flag);
}

StatusOr<int64_t> ResolveMaxModelLen(std::optional<int64_t> flag, const Model& model) {
  int64_t limit = model.max_model_len();
  if (!flag) return limit;
  if (*flag <= 0) return InvalidArgumentError("--max-model-len must be positive");
  if (*flag > limit) {
    return InvalidArgumentError(fmt::format(
        "--max-model-len {} is larger than the model's maximum context length {} "
        "(max_position_embeddings in config.json)", *flag, limit));
  }
  return *flag;
}

std::vector<int64_t> ResolveEosIds(const ModelConfig& config, const GenerationConfig& gen,
                                   const tokenizer::Tokenizer* tokenizer) {
  if (!gen.eos_token_ids.empty()) return gen.eos_token_ids;
  if (!config.eos_token_ids.empty()) return config.eos_token_ids;
  if (tokenizer && tokenizer->eos_id()) return {*tokenizer->eos_id()};
  return {};
}

namespace {

// Peak activation bytes of one forward pass of `tokens` tokens (a bound, not a profile):
// residual + normed + qkv + attention out + gate/up + down in f32, plus logits for every
// sequence, plus room for GEMM workspaces and CUDA graphs.
int64_t ActivationBytes(const Model& model, int64_t tokens, int64_t seqs) {
  const ModelConfig& c = model.config();
  int64_t head_dim = c.head_dim ? c.head_dim : c.hidden_size / std::max<int64_t>(1, c.num_attention_heads);
  int64_t qkv = (c.num_attention_heads + 2 * c.num_key_value_heads) * head_dim;
  int64_t per_token = 4 * c.hidden_size + qkv + 3 * c.intermediate_size;
  return tokens * per_token * 4 + seqs * model.vocab_size() * 4 * 2 + (int64_t{512} << 20);
}

}  // namespace

StatusOr<int64_t> KVCacheBudgetBytes(const EngineArgs& args, const Model& model) {
  if (args.kv_cache_memory) {
    if (*args.kv_cache_memory <= 0) return InvalidArgumentError("--kv-cache-memory must be positive");
    return *args.kv_cache_memory;
  }
  if (model.device().is_cpu()) return kDefaultCpuKVCacheBytes;
  if (args.gpu_memory_utilization <= 0 || args.gpu_memory_utilization > 1) {
    return InvalidArgumentError(fmt::format("--gpu-memory-utilization must be in (0, 1], got {}",
                                            args.gpu_memory_utilization));
  }
  Allocator* alloc = GetAllocator(model.device());
  if (!alloc) return UnavailableError("no allocator for " + model.device().ToString());
  ASSIGN_OR_RETURN(Allocator::MemoryInfo mem, alloc->GetMemoryInfo());
  int64_t used = static_cast<int64_t>(mem.total_bytes - mem.free_bytes);  // weights and others
  int64_t tokens = args.max_num_batched_tokens.value_or(8192);
  int64_t budget = static_cast<int64_t>(args.gpu_memory_utilization * mem.total_bytes) - used -
                   ActivationBytes(model, tokens, args.max_num_seqs);
  if (budget <= 0) {
    return ResourceExhaustedError(fmt::format(
        "no GPU memory left for the KV cache: {:.2f} GiB in use after loading the model, "
        "{:.2f} GiB allowed by --gpu-memory-utilization {}; raise it or lower --max-num-batched-tokens",
        used / 1073741824.0, args.gpu_memory_utilization * mem.total_bytes / 1073741824.0,
        args.gpu_memory_utilization));
  }
  return budget;
}

StatusOr<int32_t> NumKVBlocks(int64_t bytes, const KVCacheSpec& spec, const EngineArgs& args,
                              int64_t max_model_len) {
  KVCacheSizingSpec s;
  s.num_layers = spec.num_layers;
  s.num_kv_heads = spec.num_kv_heads;
  s.head_dim = spec.head_dim;
  s.dtype_size = static_cast<int64_t>(DTypeSize(spec.dtype));
  s.block_size = args.block_size;
  ASSIGN_OR_RETURN(KVCacheSizing sizing,
                   ComputeKVCacheSizing(bytes, s, max_model_len, args.num_gpu_blocks_override));
  LOG_INFO("{}", DescribeKVCacheSizing(sizing, s, max_model_len));
  if (sizing.num_blocks > INT32_MAX) return InvalidArgumentError("too many KV blocks");
  return static_cast<int32_t>(sizing.num_blocks);
}

int32_t ResolveMaxNumBatchedTokens(const EngineArgs& args, int64_t max_model_len) {
  int32_t whole_prompt = args.enable_chunked_prefill ? 0 : static_cast<int32_t>(max_model_len);
  return args.max_num_batched_tokens.value_or(std::max<int32_t>(8192, whole_prompt));
}

ModelRunnerConfig MakeRunnerConfig(const EngineArgs& args, int32_t num_blocks,
                                   int64_t max_model_len) {
  ModelRunnerConfig rc{num_blocks, args.block_size, args.seed, args.batch_invariant};
  rc.cuda_graphs = !args.enforce_eager;
  if (args.async_scheduling || args.op_sampling)
    rc.sampling_path = ModelRunnerConfig::SamplingPath::kOp;
  rc.max_num_seqs = args.max_num_seqs;
  rc.max_model_len = static_cast<int32_t>(max_model_len);
  rc.max_num_batched_tokens = ResolveMaxNumBatchedTokens(args, max_model_len);
  return rc;
}

StatusOr<std::vector<std::vector<int32_t>>> TokenizeBadWords(const tokenizer::Tokenizer& tok,
                                                             const std::vector<std::string>& words) {
  std::vector<std::vector<int32_t>> out;
  for (const std::string& w : words) {
    std::string word = w.substr(std::min(w.find_first_not_of(' '), w.size()));
    for (const std::string& prefix : {std::string(), std::string(" ")}) {
      ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok.Encode(prefix + word, false));
      if (ids.empty()) continue;
      if (std::find(out.begin(), out.end(), ids) == out.end()) out.push_back(std::move(ids));
    }
  }
  return out;
}

Status ValidatePromptIds(const std::vector<int32_t>& ids, int64_t vocab_size, int64_t max_model_len) {
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size) {
      return InvalidArgumentError(fmt::format("token id {} is out of vocabulary (size {})", id, vocab_size));
    }
  }
  if (static_cast<int64_t>(ids.size()) >= max_model_len) {
    return InvalidArgumentError(fmt::format(
        "The decoder prompt (length {}) is longer than the maximum model length of {}. "
        "Make sure that `max_model_len` is no smaller than the number of text tokens plus one.",
        ids.size(), max_model_len));
  }
  return OkStatus();
}

}  // namespace pagellm

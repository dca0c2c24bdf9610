#include "engine/testing/tiny_model.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/check.h"
#include "base/file.h"
#include "tokenizer/tiny_tokenizers.h"

namespace pagellm::testing {

TinyModel MakeTinyLlama(const std::string& name, int num_kv_heads) {
  namespace fs = std::filesystem;
  TinyModel m;
  m.dir = (fs::temp_directory_path() / ("pagellm_tiny_" + name + "_" + std::to_string(::getpid()))).string();
  fs::create_directories(m.dir);
  std::string tok = tokenizer::tiny::ByteLevelBpe();
  nlohmann::json tj = nlohmann::json::parse(tok);
  int max_id = 0;
  for (const auto& t : tj["added_tokens"]) {
    max_id = std::max(max_id, t["id"].get<int>());
    if (t["content"] == "<|eot|>") m.eos_id = t["id"].get<int>();
  }
  m.vocab_size = ((max_id + 1) + 31) / 32 * 32;
  nlohmann::json cfg = {
      {"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
      {"vocab_size", m.vocab_size}, {"hidden_size", 64}, {"intermediate_size", 128},
      {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", num_kv_heads},
      {"max_position_embeddings", 512}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
      {"hidden_act", "silu"}, {"tie_word_embeddings", false}, {"torch_dtype", "float32"},
      {"bos_token_id", max_id - 3}, {"eos_token_id", m.eos_id}};
  CHECK_OK(WriteStringToFile(JoinPath(m.dir, "config.json"), cfg.dump(2)));
  CHECK_OK(WriteStringToFile(JoinPath(m.dir, "tokenizer.json"), tok));
  nlohmann::json tc = {{"bos_token", "<|bos|>"}, {"eos_token", "<|eot|>"}, {"model_max_length", 512}};
  CHECK_OK(WriteStringToFile(JoinPath(m.dir, "tokenizer_config.json"), tc.dump()));
  return m;
}

EngineArgs TinyEngineArgs(const TinyModel& m, int32_t num_blocks) {
  EngineArgs a;
  a.model = m.dir;
  a.device = "cpu";
  a.load_format = "dummy";
  a.dtype = "float32";
  a.num_gpu_blocks_override = num_blocks;
  a.kv_cache_memory = int64_t{64} << 20;
  a.batch_invariant = true;
  a.max_num_seqs = 32;
  a.max_num_batched_tokens = 256;
  return a;
}

std::vector<PromptInput> TestPrompts(int n, int len, int64_t vocab) {
  std::vector<PromptInput> out;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> ids;
    for (int j = 0; j < len + 3 * i; ++j)
      ids.push_back(static_cast<int32_t>((i * 37 + j * 11 + 5) % (vocab - 40) + 3));
    out.push_back(PromptInput::Ids(ids));
  }
  return out;
}

SamplingParams GreedyParams(int max_tokens) {
  SamplingParams p;
  p.temperature = 0;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  return p;
}

}  // namespace pagellm::testing

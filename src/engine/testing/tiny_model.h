// Test helper: writes a tiny Llama model directory (config.json + a byte-level BPE
// tokenizer.json; weights come from --load-format dummy) and returns EngineArgs for it.
#pragma once

#include <string>
#include <vector>

#include "engine/engine_args.h"
#include "engine/llm_engine.h"

namespace pagellm::testing {

struct TinyModel {
  std::string dir;
  int32_t eos_id = 0;
  int64_t vocab_size = 0;
};

// Creates the directory under the test's temp dir (idempotent per name).
TinyModel MakeTinyLlama(const std::string& name, int num_kv_heads = 2);
// Engine args for it: CPU, dummy weights, batch-invariant, a small KV cache.
EngineArgs TinyEngineArgs(const TinyModel& m, int32_t num_blocks = 256);

// n deterministic token-id prompts, prompt i of len + 3 i ids in [3, vocab - 37).
std::vector<PromptInput> TestPrompts(int n, int len, int64_t vocab);
// Greedy decoding of exactly max_tokens tokens (ignore_eos).
SamplingParams GreedyParams(int max_tokens);

}  // namespace pagellm::testing

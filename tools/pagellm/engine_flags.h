// Engine flags shared by the offline subcommands (run-batch, bench throughput): vLLM's names
// (EngineArgs.add_cli_args) registered onto one EngineArgs. `pagellm serve` keeps its own
// ServerArgs (the server's flags), which maps onto the same EngineArgs.
#pragma once

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "engine/engine_args.h"

namespace pagellm::cli {

// Adds --model (a positional MODEL instead when `model_positional`), --tokenizer, --revision,
// --dtype, --device, --load-format, --max-model-len, --block-size, --gpu-memory-utilization,
// --kv-cache-memory, --num-gpu-blocks-override, --max-num-seqs, --max-num-batched-tokens,
// --[no-]enable-prefix-caching, --[no-]enable-chunked-prefill, --scheduling-policy, --seed,
// --skip-tokenizer-init, --generation-config, --tensor-parallel-size, --max-logprobs,
// --enforce-eager, --async-scheduling, --chat-template. `args` must outlive parsing (flags write into it).
void RegisterEngineArgs(CLI::App& app, EngineArgs& args, bool model_positional = false);

// Range checks of the parsed values (InvalidArgument naming the flag). The engine resolves
// the rest (model path, dtype, device) when it is created.
Status ValidateEngineArgs(const EngineArgs& args);

}  // namespace pagellm::cli

// `pagellm serve` flags, named as vLLM names them. Register on a CLI11 app, then Validate().
// Integer flags use 0 (or -1 where 0 is meaningful) for "not set / engine default".
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "server/api_server.h"

namespace pagellm::server {

struct ServerArgs {
  std::string model;
  std::string host = "0.0.0.0";
  int port = 8000;
  std::string api_key;                        // also $PAGELLM_API_KEY / $VLLM_API_KEY
  std::vector<std::string> served_model_name; // default: the model argument
  std::string chat_template;                  // file path or inline template
  std::string generation_config = "auto";
  int max_model_len = 0;                      // 0: from the model config
  std::string dtype = "auto";
  std::string device = "auto";                // auto | cpu | cuda
  std::string load_format = "auto";
  std::string tokenizer;                      // default: the model
  std::string revision;
  bool skip_tokenizer_init = false;
  int64_t seed = 0;
  int max_num_seqs = 256;
  int max_num_batched_tokens = 0;             // 0: engine default
  double gpu_memory_utilization = 0.9;
  int64_t kv_cache_memory = 0;                // bytes; 0: use gpu_memory_utilization
  int block_size = 16;
  bool enable_prefix_caching = true;
  int tensor_parallel_size = 1;
  int max_logprobs = 20;
  bool return_tokens_as_token_ids = false;
  bool disable_log_requests = false;
  std::vector<std::string> allowed_origins = {"*"};
  bool enforce_eager = false;
  bool async_scheduling = false;
  int num_gpu_blocks_override = 0;            // 0: computed from memory
  std::string scheduling_policy = "fcfs";     // fcfs | priority (honours "priority")
  // Results independent of the batch a request runs in (slower CPU GEMMs); what lets tests
  // compare a request's output under load with the same request alone.
  bool batch_invariant = false;
  // pagellm's own.
  int io_threads = 2;
  int64_t max_request_body_bytes = 32ll << 20;
  int shutdown_grace_s = 10;
  bool fake_engine = false;                   // hidden: serve FakeEngineClient (tests)

  // Adds every flag to `app` (the model is a positional argument).
  void Register(CLI::App& app);
  // Range checks, env fallbacks, JSON-list --allowed-origins. Call after parsing.
  Status Finalize();
  ApiServerOptions ToApiServerOptions() const;
  // --served-model-name, else the model argument.
  std::vector<std::string> ServedModelNames() const;
};

}  // namespace pagellm::server

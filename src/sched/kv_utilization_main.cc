// pagellm_kv_utilization: replays a workload file (JSON lines {"prompt_token_ids": [...],
// "max_tokens": M}, as ../shared/bench/workload.py writes) through the Scheduler with the fake
// model (every request generates exactly max_tokens tokens, EOS ignored) and reports which
// fraction of the allocated KV slots hold tokens, averaged over steps.
//   pagellm_kv_utilization /tmp/w.jsonl [--num-blocks N] [--block-size 16] ...
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/status.h"
#include "sched/fake_model_runner.h"
#include "sched/scheduler.h"

namespace pagellm {
namespace {

struct Options {
  std::string workload;
  int32_t num_blocks = 28000;  // about Llama-3-8B on one 80 GB GPU (2 MiB per 16-token block)
  int32_t block_size = 16;
  int32_t max_num_seqs = 256;
  int32_t max_num_batched_tokens = 8192;
  int32_t max_model_len = 4096;
  bool no_prefix_caching = false;
  int32_t num_requests = 0;  // 0 = all
};

StatusOr<std::vector<EngineCoreRequest>> ReadWorkload(const Options& o) {
  std::ifstream in(o.workload);
  if (!in) return NotFoundError("cannot open " + o.workload);
  std::vector<EngineCoreRequest> reqs;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (o.num_requests > 0 && int32_t(reqs.size()) >= o.num_requests) break;
    EngineCoreRequest r;
    try {
      auto j = nlohmann::json::parse(line);
      r.prompt_token_ids = j.at("prompt_token_ids").get<std::vector<int32_t>>();
      r.sampling_params.max_tokens = j.at("max_tokens").get<int>();
    } catch (const std::exception& e) {
      return InvalidArgumentError("bad workload line " + std::to_string(reqs.size() + 1) + ": " +
                                  e.what());
    }
    r.request_id = std::to_string(reqs.size());
    r.sampling_params.ignore_eos = true;
    reqs.push_back(std::move(r));
  }
  return reqs;
}

Status Run(const Options& o) {
  ASSIGN_OR_RETURN(std::vector<EngineCoreRequest> reqs, ReadWorkload(o));
  SchedulerConfig c;
  c.max_num_seqs = o.max_num_seqs;
  c.max_num_batched_tokens = o.max_num_batched_tokens;
  c.max_model_len = o.max_model_len;
  ASSIGN_OR_RETURN(auto sched, Scheduler::Create(c, CacheConfig{o.block_size, o.num_blocks,
                                                                !o.no_prefix_caching}));
  for (auto& r : reqs) RETURN_IF_ERROR(sched->AddRequest(std::move(r)));
  FakeModelRunner runner(o.num_blocks, o.block_size, 32000);
  int64_t steps = 0, filled_sum = 0, allocated_sum = 0, out_tokens = 0, peak_blocks = 0;
  double peak_util = 0;
  using Clock = std::chrono::steady_clock;
  Clock::duration sched_time{};
  while (sched->HasUnfinishedRequests()) {
    auto t0 = Clock::now();
    SchedulerOutput so = sched->Schedule();
    sched_time += Clock::now() - t0;
    if (so.empty()) return InternalError("scheduler made no progress");
    // Slots holding a token after this step's forward pass vs slots of blocks in use.
    const KVCacheManager& kv = sched->kv_cache_manager();
    int64_t used = kv.block_pool().num_blocks() - kv.num_free_blocks();
    int64_t filled = 0;
    for (const Request* r : sched->running()) filled += r->num_computed_tokens;
    int64_t allocated = used * o.block_size;
    filled_sum += filled;
    allocated_sum += allocated;
    if (used > peak_blocks) {
      peak_blocks = used;
      peak_util = double(filled) / double(allocated);
    }
    ModelRunnerOutput mo = runner.Execute(so);
    t0 = Clock::now();
    for (auto& out : sched->Update(so, mo)) out_tokens += out.new_token_ids.size();
    sched_time += Clock::now() - t0;
    ++steps;
  }
  std::printf(
      "requests %zu, steps %ld, output tokens %ld, preemptions %ld, prefix-cache hit tokens %ld\n"
      "KV slot utilization (tokens held / slots allocated, summed over steps): %.4f\n"
      "at the peak (%ld of %d blocks in use): %.4f\n"
      "Schedule() + Update() CPU time: %.1f us per step\n",
      reqs.size(), long(steps), long(out_tokens), long(sched->num_preemptions()),
      long(sched->kv_cache_manager().prefix_cache_hits()), double(filled_sum) / allocated_sum,
      long(peak_blocks), o.num_blocks, peak_util,
      std::chrono::duration<double, std::micro>(sched_time).count() / double(steps));
  if (runner.kv_mismatches() || runner.sync_errors())
    return InternalError("fake runner saw KV mismatches");
  return OkStatus();
}

}  // namespace
}  // namespace pagellm

int main(int argc, char** argv) {
  pagellm::Options o;
  CLI::App app{"KV cache slot utilization of a workload under the scheduler (fake model)"};
  app.add_option("workload", o.workload, "JSONL workload file")->required();
  app.add_option("--num-blocks", o.num_blocks, "KV cache blocks");
  app.add_option("--block-size", o.block_size, "tokens per block");
  app.add_option("--max-num-seqs", o.max_num_seqs);
  app.add_option("--max-num-batched-tokens", o.max_num_batched_tokens);
  app.add_option("--max-model-len", o.max_model_len);
  app.add_option("--num-requests", o.num_requests, "first N requests (0 = all)");
  app.add_flag("--no-enable-prefix-caching", o.no_prefix_caching);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  pagellm::Status st = pagellm::Run(o);
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

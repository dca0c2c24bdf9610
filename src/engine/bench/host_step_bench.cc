// host_step_bench: the engine's host-side work per step with many sequences decoding at once,
// without a GPU. Drives the real Scheduler (Schedule + Update), the engine's step
// post-processing (LLMEngine's update+output phase: ProcessStepOutputs) and OutputProcessor for
// token-id requests (as `pagellm bench throughput --skip-tokenizer-init` runs them: temperature
// sampling, ignore_eos, final-only outputs), with a fake runner that samples one token per
// request whose context is complete. Prints mean µs per step per phase, over the whole run and
// over its last quarter (the longest contexts); "teardown" is freeing the step's structs.
// Each size runs --repeat times and every step keeps its fastest time per phase (noise from
// other processes only adds). --runner replaces the fake runner by the real ModelRunner on a
// minimal CPU model and logs its host phases (PhaseTimer); run it with OMP_NUM_THREADS=1 (idle
// OpenMP threads spin on the cores the host phases need).
//
//   build/src/engine/pagellm_host_step_bench [--seqs 256,1024] [--prompt-len 150]
//       [--output-len 1000] [--block-size 16] [--max-num-batched-tokens 8192] [--repeat 3]
//       [--runner]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/phase_timer.h"
#include "engine/output_processor.h"
#include "engine/step_outputs.h"
#include "model/model.h"
#include "runner/model_runner.h"
#include "sched/scheduler.h"

namespace pagellm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int32_t kMinimalVocab = 512;

struct BenchFlags {
  std::vector<int32_t> seqs = {256, 1024};
  int32_t prompt_len = 150;
  int32_t output_len = 1000;
  int32_t block_size = 16;
  int32_t max_num_batched_tokens = 8192;
  int32_t repeat = 3;
  int32_t num_blocks = 0;  // 0: room for every sequence; fewer forces preemptions
  // Also run the real ModelRunner on a minimal CPU model (DeviceSampler path) and report its
  // host phases (runner.* and sampler.prep from PhaseTimer); its forward pass is CPU compute.
  bool runner = false;
};

// A one-layer Llama small enough that a CPU forward of ~1000 sequences stays cheap.
StatusOr<std::unique_ptr<Model>> LoadMinimalModel(int32_t max_model_len) {
  namespace fs = std::filesystem;
  const std::string dir =
      (fs::temp_directory_path() / ("pagellm_host_step_bench_" + std::to_string(::getpid())))
          .string();
  fs::create_directories(dir);
  nlohmann::json cfg = {
      {"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"vocab_size", kMinimalVocab},
      {"hidden_size", 32}, {"intermediate_size", 64}, {"num_hidden_layers", 1},
      {"num_attention_heads", 2}, {"num_key_value_heads", 1},
      {"max_position_embeddings", max_model_len}, {"rms_norm_eps", 1e-5},
      {"rope_theta", 10000.0}, {"hidden_act", "silu"}, {"tie_word_embeddings", false},
      {"torch_dtype", "float32"}, {"bos_token_id", 1}, {"eos_token_id", 2}};
  RETURN_IF_ERROR(WriteStringToFile(JoinPath(dir, "config.json"), cfg.dump(2)));
  LoadOptions lo;
  lo.model_dir = dir;
  lo.load_format = LoadFormat::kDummy;
  lo.dtype = "float32";
  return LoadModel(lo);
}

double Us(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

// The runner's contract without a model: a token for every scheduled request whose computed
// tokens reach its token count (scheduler.h), in num_scheduled_tokens order.
ModelRunnerOutput FakeExecute(const Scheduler& sched, const SchedulerOutput& out, std::mt19937& rng) {
  ModelRunnerOutput r;
  r.req_ids.reserve(out.num_scheduled_tokens.size());
  r.sampled_token_ids.reserve(out.num_scheduled_tokens.size());
  for (const auto& [id, n] : out.num_scheduled_tokens) {
    const Request* req = sched.GetRequest(id);
    r.req_ids.push_back(id);
    r.sampled_token_ids.emplace_back();
    if (req && req->num_computed_tokens >= req->num_tokens())
      r.sampled_token_ids.back().push_back(static_cast<int32_t>(rng() % 32000));
  }
  return r;
}

// FNV-1a over what the step decided, to check that optimizations change no decision.
struct Checksum {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Add(uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
  }
  void Add(const std::string& s) {
    for (char c : s) Add(static_cast<uint64_t>(static_cast<unsigned char>(c)));
  }
  void Add(const std::vector<int32_t>& v) {
    Add(v.size());
    for (int32_t x : v) Add(static_cast<uint64_t>(static_cast<uint32_t>(x)));
  }
  void Add(const SchedulerOutput& so) {
    for (const NewRequestData& n : so.scheduled_new_reqs) {
      Add(n.req_id);
      Add(n.block_ids);
      Add(static_cast<uint64_t>(n.num_computed_tokens));
    }
    for (const CachedRequestData& c : so.scheduled_cached_reqs) {
      Add(c.req_id);
      Add(c.new_token_ids);
      Add(c.new_block_ids);
      Add(static_cast<uint64_t>(c.num_computed_tokens));
    }
    for (const auto& [id, n] : so.num_scheduled_tokens) {
      Add(id);
      Add(static_cast<uint64_t>(n));
    }
    for (const std::string& id : so.finished_req_ids) Add(id);
    for (const std::string& id : so.preempted_req_ids) Add(id);
  }
  void Add(const RequestOutput& o) {
    Add(o.request_id);
    for (const CompletionOutput& c : o.outputs) Add(c.token_ids);
  }
};

// Per decode step of all num_seqs sequences: µs per phase.
struct StepTimes {
  double schedule = 0, runner = 0, update = 0, teardown = 0;
};

struct RunResult {
  std::vector<StepTimes> decode;  // full-batch decode steps, in order
  size_t steps = 0, finished = 0;
  int64_t generation_tokens = 0;
  int64_t preemptions = 0;
  uint64_t checksum = 0;
};

StatusOr<RunResult> RunOne(const BenchFlags& f, int32_t num_seqs) {
  SchedulerConfig sc;
  sc.max_num_seqs = num_seqs;
  sc.max_num_batched_tokens = f.max_num_batched_tokens;
  sc.max_model_len = f.prompt_len + f.output_len + 64;
  CacheConfig cc;
  cc.block_size = f.block_size;
  const int64_t per_seq = (sc.max_model_len + f.block_size - 1) / f.block_size;
  cc.num_gpu_blocks =
      f.num_blocks > 0 ? f.num_blocks : static_cast<int32_t>(per_seq * num_seqs + 16);
  ASSIGN_OR_RETURN(std::unique_ptr<Scheduler> sched, Scheduler::Create(sc, cc));
  std::unique_ptr<Model> model;
  std::unique_ptr<ModelRunner> runner;
  if (f.runner) {
    ASSIGN_OR_RETURN(model, LoadMinimalModel(sc.max_model_len));
    ModelRunnerConfig rc{cc.num_gpu_blocks, cc.block_size, /*seed=*/0, /*batch_invariant=*/false};
    rc.sampling_path = ModelRunnerConfig::SamplingPath::kOp;  // DeviceSampler, as on a GPU
    rc.max_num_seqs = num_seqs;
    rc.max_model_len = sc.max_model_len;
    rc.max_num_batched_tokens = sc.max_num_batched_tokens;
    ASSIGN_OR_RETURN(runner, ModelRunner::Create(model.get(), rc));
  }
  const int32_t vocab = f.runner ? kMinimalVocab : 32000;
  OutputProcessor outputs(nullptr);
  std::mt19937 rng(1234);
  for (int32_t i = 0; i < num_seqs; ++i) {
    SamplingParams p;  // vLLM's bench: temperature 1.0, top_p 1.0
    p.max_tokens = f.output_len;
    p.ignore_eos = true;
    p.detokenize = false;
    p.output_kind = RequestOutputKind::kFinalOnly;
    RETURN_IF_ERROR(p.Finalize());
    const int32_t len = f.prompt_len - 8 + static_cast<int32_t>(rng() % 17);
    std::vector<int32_t> prompt(static_cast<size_t>(len));
    for (int32_t& t : prompt) t = static_cast<int32_t>(rng() % vocab);
    EngineCoreRequest req;
    req.request_id = std::to_string(i);
    req.prompt_token_ids = prompt;
    req.sampling_params = p;
    req.eos_token_id = 2;
    RETURN_IF_ERROR(sched->AddRequest(std::move(req)));
    outputs.AddRequest(std::to_string(i), std::nullopt, std::move(prompt), p);
  }
  RunResult result;
  Checksum sum;
  while (sched->HasUnfinishedRequests()) {
    auto t0 = Clock::now();
    SchedulerOutput so = sched->Schedule();
    auto t1 = Clock::now();
    ModelRunnerOutput run;
    if (runner) {
      ASSIGN_OR_RETURN(run, runner->Execute(so));
    } else {
      run = FakeExecute(*sched, so, rng);
    }
    auto t2 = Clock::now();
    OutputProcessor::Result res =
        ProcessStepOutputs(*sched, outputs, so, run, result.generation_tokens);
    auto t3 = Clock::now();
    for (const RequestOutput& o : res.outputs) {
      result.finished += o.finished ? 1 : 0;
      sum.Add(o);
    }
    sum.Add(so);
    ++result.steps;
    const bool full_decode = so.scheduled_cached_reqs.size() == static_cast<size_t>(num_seqs) &&
                             so.total_num_scheduled_tokens == num_seqs;
    // LLMEngine::Step frees the step's structs before returning: host time between steps too.
    auto t4 = Clock::now();
    so = SchedulerOutput();
    run = ModelRunnerOutput();
    res = OutputProcessor::Result();
    auto t5 = Clock::now();
    if (full_decode) result.decode.push_back({Us(t0, t1), Us(t1, t2), Us(t2, t3), Us(t4, t5)});
  }
  result.checksum = sum.h;
  result.preemptions = sched->num_preemptions();
  if (runner) PhaseTimer::Get().Report();  // runner.* means over every step of this run
  return result;
}

// Runs `repeat` times (the same work each time) and keeps each step's fastest time per phase:
// other processes on a shared machine only ever add time.
int Report(const BenchFlags& f, int32_t num_seqs) {
  RunResult best;
  for (int32_t rep = 0; rep < f.repeat; ++rep) {
    StatusOr<RunResult> r = RunOne(f, num_seqs);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    if (rep == 0) {
      best = std::move(r).value();
      continue;
    }
    if (r->checksum != best.checksum || r->decode.size() != best.decode.size()) {
      std::fprintf(stderr, "repeat %d differs from the first run\n", rep);
      return 1;
    }
    for (size_t i = 0; i < best.decode.size(); ++i) {
      StepTimes& b = best.decode[i];
      b.schedule = std::min(b.schedule, r->decode[i].schedule);
      b.runner = std::min(b.runner, r->decode[i].runner);
      b.update = std::min(b.update, r->decode[i].update);
      b.teardown = std::min(b.teardown, r->decode[i].teardown);
    }
  }
  auto mean = [](std::span<const StepTimes> v, double StepTimes::*field) {
    double sum = 0;
    for (const StepTimes& s : v) sum += s.*field;
    return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
  };
  auto max = [](std::span<const StepTimes> v, double StepTimes::*field) {
    double m = 0;
    for (const StepTimes& s : v) m = std::max(m, s.*field);
    return m;
  };
  std::span<const StepTimes> all(best.decode);
  std::span<const StepTimes> late = all.subspan(all.size() - all.size() / 4);
  std::printf(
      "seqs=%d steps=%zu decode_steps=%zu finished=%zu generated=%lld preemptions=%lld "
      "checksum=%016llx\n",
      num_seqs, best.steps, best.decode.size(), best.finished,
      static_cast<long long>(best.generation_tokens), static_cast<long long>(best.preemptions),
              static_cast<unsigned long long>(best.checksum));
  for (auto [name, v] : {std::pair{"all decode", all}, std::pair{"last quarter", late}}) {
    std::printf(
        "  %-12s schedule %7.1f us (max %7.1f)  update+output %7.1f us (max %7.1f)  "
        "teardown %6.1f us  [runner %6.1f us]\n",
        name, mean(v, &StepTimes::schedule), max(v, &StepTimes::schedule),
        mean(v, &StepTimes::update), max(v, &StepTimes::update), mean(v, &StepTimes::teardown),
        mean(v, &StepTimes::runner));
  }
  return best.finished == static_cast<size_t>(num_seqs) ? 0 : 1;
}

}  // namespace
}  // namespace pagellm

int main(int argc, char** argv) {
  pagellm::BenchFlags f;
  CLI::App app{"host-side engine step benchmark (scheduler + output processing)"};
  app.add_option("--seqs", f.seqs, "running sequences (one run each)")->delimiter(',');
  app.add_option("--prompt-len", f.prompt_len, "mean prompt length (±8)");
  app.add_option("--output-len", f.output_len, "output tokens per request (ignore_eos)");
  app.add_option("--block-size", f.block_size, "KV block size");
  app.add_option("--max-num-batched-tokens", f.max_num_batched_tokens, "token budget per step");
  app.add_option("--repeat", f.repeat, "runs per size; each step's fastest time counts")
      ->check(CLI::PositiveNumber);
  app.add_option("--num-blocks", f.num_blocks,
                 "KV blocks (default: room for all; fewer makes the scheduler preempt)");
  app.add_flag("--runner", f.runner,
               "run the real ModelRunner on a minimal CPU model and log its host phases");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (f.runner) setenv("PAGELLM_PROFILE_STEPS", "1", 1);  // read once, at PhaseTimer's first use
  int rc = 0;
  for (int32_t n : f.seqs) rc |= pagellm::Report(f, n);
  return rc;
}

// Async scheduling below the engine: Scheduler (async_scheduling) + ModelRunner::EnqueueStep /
// CollectStep produce exactly the tokens of the synchronous Schedule → Execute → Update loop, on
// the llama_gqa fixture in float32, with chunked prefills, requests finishing at different steps
// (their in-flight step discarded) and, with a small KV pool, preemption. On the CPU (op
// sampling) always; on cuda:0, eager and with decode graphs, when a GPU is visible.
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <map>

#include "base/file.h"
#include "model/testing/fixtures.h"
#include "runner/model_runner.h"
#include "sched/scheduler.h"
#include "tensor/buffer.h"

namespace pagellm {
namespace {

constexpr int32_t kBlockSize = 16;
constexpr int kRequests = 6;

using Tokens = std::map<std::string, std::vector<int32_t>>;

EngineCoreRequest MakeRequest(int i) {
  EngineCoreRequest r;
  r.request_id = "req" + std::to_string(i);
  for (int j = 0; j < 3 + 9 * i; ++j) r.prompt_token_ids.push_back((j * 29 + i * 7) % 200 + 5);
  SamplingParams& p = r.sampling_params;
  p.temperature = i % 2 ? 0.0 : 0.8;
  if (i % 2 == 0) p.seed = 100 + i;
  p.top_k = i == 2 ? 20 : 0;
  p.max_tokens = 6 + 5 * i;
  p.min_tokens = i == 4 ? 8 : 0;
  p.ignore_eos = true;
  if (i == 5) p.logprobs = 2;
  return r;
}

struct RunSetup {
  Device device;
  bool graphs = false;
  int32_t num_blocks = 64;
};

std::unique_ptr<ModelRunner> MakeRunner(Model* model, const RunSetup& s) {
  ModelRunnerConfig cfg;
  cfg.num_blocks = s.num_blocks;
  cfg.block_size = kBlockSize;
  cfg.seed = 7;
  cfg.batch_invariant = true;
  cfg.sampling_path = ModelRunnerConfig::SamplingPath::kOp;
  cfg.cuda_graphs = s.graphs;
  cfg.max_num_seqs = 8;
  cfg.max_model_len = 128;
  cfg.max_num_batched_tokens = 32;
  auto runner = ModelRunner::Create(model, cfg);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  return runner.ok() ? std::move(runner).value() : nullptr;
}

std::unique_ptr<Scheduler> MakeScheduler(const RunSetup& s, bool async) {
  SchedulerConfig sc;
  sc.max_num_batched_tokens = 32;
  sc.max_num_seqs = 8;
  sc.max_model_len = 128;
  sc.async_scheduling = async;
  CacheConfig cc;
  cc.block_size = kBlockSize;
  cc.num_gpu_blocks = s.num_blocks;
  auto sched = Scheduler::Create(sc, cc);
  EXPECT_TRUE(sched.ok());
  for (int i = 0; i < kRequests; ++i) EXPECT_TRUE((*sched)->AddRequest(MakeRequest(i)).ok());
  return std::move(sched).value();
}

void Record(const std::vector<EngineCoreOutput>& outs, Tokens& tokens) {
  for (const EngineCoreOutput& o : outs) {
    auto& t = tokens[o.request_id];
    EXPECT_FALSE(!t.empty() && t.back() == -1) << o.request_id << " reported after finishing";
    t.insert(t.end(), o.new_token_ids.begin(), o.new_token_ids.end());
    if (o.finished()) t.push_back(-1);
  }
}

Tokens RunSync(Model* model, const RunSetup& s) {
  auto runner = MakeRunner(model, s);
  auto sched = MakeScheduler(s, false);
  Tokens tokens;
  for (int step = 0; runner && sched->HasUnfinishedRequests() && step < 1000; ++step) {
    SchedulerOutput so = sched->Schedule();
    auto out = runner->Execute(so);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) break;
    Record(sched->Update(so, *out), tokens);
  }
  return tokens;
}

Tokens RunAsync(Model* model, const RunSetup& s, int64_t* overlapped) {
  auto runner = MakeRunner(model, s);
  auto sched = MakeScheduler(s, true);
  Tokens tokens;
  std::deque<SchedulerOutput> in_flight;
  *overlapped = 0;
  for (int step = 0; runner && (sched->HasUnfinishedRequests() || !in_flight.empty()) &&
                     step < 1000; ++step) {
    bool enqueued = false;
    if (sched->HasUnfinishedRequests()) {
      in_flight.push_back(sched->Schedule());
      Status st = runner->EnqueueStep(in_flight.back());
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (!st.ok()) break;
      enqueued = true;
      if (in_flight.size() > 1) ++*overlapped;
    }
    while (in_flight.size() > (enqueued ? 1u : 0u)) {
      auto out = runner->CollectStep();
      EXPECT_TRUE(out.ok()) << out.status().ToString();
      if (!out.ok()) return tokens;
      Record(sched->Update(in_flight.front(), *out), tokens);
      in_flight.pop_front();
    }
  }
  EXPECT_EQ(sched->kv_cache_manager().num_free_blocks(), s.num_blocks);
  if (s.num_blocks < 16) {
    EXPECT_GT(sched->num_preemptions(), 0);
  }
  return tokens;
}

void PrintTo(const RunSetup& s, std::ostream* os) {
  *os << s.device.ToString() << (s.graphs ? " graphs" : "") << " blocks " << s.num_blocks;
}

class AsyncRunnerTest : public ::testing::TestWithParam<RunSetup> {};

TEST_P(AsyncRunnerTest, SameTokensAsSynchronousSteps) {
  const RunSetup& s = GetParam();
  if (s.device.is_cuda()) {
    Allocator* a = GetAllocator(s.device);
    if (a == nullptr || !a->GetMemoryInfo().ok()) GTEST_SKIP() << "no CUDA device";
  }
  LoadOptions o;
  o.model_dir = testing::FixtureModelDir("llama_gqa");
  if (!FileExists(JoinPath(o.model_dir, "config.json"))) GTEST_SKIP() << "no fixture";
  o.dtype = "float32";
  o.device = s.device;
  auto model = LoadModel(o);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Tokens want = RunSync(model->get(), s);
  int64_t overlapped = 0;
  const Tokens got = RunAsync(model->get(), s, &overlapped);
  EXPECT_GT(overlapped, 10);
  ASSERT_EQ(want.size(), static_cast<size_t>(kRequests));
  for (const auto& [id, t] : want) {
    EXPECT_EQ(t.back(), -1) << id << " did not finish";
    EXPECT_EQ(got.count(id) ? got.at(id) : std::vector<int32_t>{}, t) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Devices, AsyncRunnerTest,
    ::testing::Values(RunSetup{Device::Cpu(), false, 64}, RunSetup{Device::Cpu(), false, 9},
                      RunSetup{Device::Cuda(0), false, 64}, RunSetup{Device::Cuda(0), true, 64},
                      RunSetup{Device::Cuda(0), true, 9}),
    [](const ::testing::TestParamInfo<RunSetup>& info) {
      const RunSetup& s = info.param;
      return std::string(s.device.is_cuda() ? "Cuda" : "Cpu") + (s.graphs ? "Graphs" : "") +
             (s.num_blocks < 16 ? "Preempting" : "");
    });

}  // namespace
}  // namespace pagellm

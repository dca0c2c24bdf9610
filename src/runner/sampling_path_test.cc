// ModelRunner with DeviceSampler (ops::SampleRows where the logits are) vs the CPU Sampler on
// the same model (tests/data/models/llama_gqa, float32): the same tokens for greedy,
// penalised, biased and seeded requests over a prefill and several decode steps, and logprobs
// within tolerance. On the CPU (SamplingPath::kOp) and, with a GPU, on CUDA (kAuto). Skips
// without the fixture.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/file.h"
#include "model/testing/fixtures.h"
#include "runner/model_runner.h"
#include "tensor/buffer.h"

namespace pagellm {
namespace {

constexpr int kSteps = 12;
constexpr int32_t kBlocksPerReq = 4, kBlockSize = 16;

bool HaveCudaDevice() {
  Allocator* a = GetAllocator(Device::Cuda(0));
  return a != nullptr && a->GetMemoryInfo().ok();
}

std::vector<SamplingParams> Requests() {
  std::vector<SamplingParams> ps(5);
  ps[0].temperature = 0;
  ps[1].temperature = 0, ps[1].repetition_penalty = 1.3, ps[1].logit_bias = {{7, 3.0}};
  ps[2].temperature = 0.8, ps[2].top_p = 0.9, ps[2].seed = 11, ps[2].frequency_penalty = 0.4;
  ps[2].logprobs = 3;
  ps[3].temperature = 1.0, ps[3].top_k = 5, ps[3].seed = 12, ps[3].min_tokens = 20;
  ps[3].stop_token_ids = {1, 2};
  ps[4].temperature = 0, ps[4].logprobs = 0, ps[4].presence_penalty = 1.0;
  return ps;
}

struct Generated {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<std::vector<TokenLogprobs>> logprobs;
  int64_t device_steps = 0;
};

Generated Generate(Model* model, ModelRunnerConfig::SamplingPath path) {
  ModelRunnerConfig cfg{64, kBlockSize, 3, false, path};
  auto runner = ModelRunner::Create(model, cfg);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  if (!runner.ok()) return {};
  const auto params = Requests();
  const int n = static_cast<int>(params.size());
  Generated run;
  run.tokens.resize(n);
  run.logprobs.resize(n);
  std::vector<int32_t> computed(n);
  for (int step = 0; step < kSteps; ++step) {
    SchedulerOutput so;
    for (int i = 0; i < n; ++i) {
      const std::string id = "req" + std::to_string(i);
      if (step == 0) {
        NewRequestData nr;
        nr.req_id = id;
        for (int j = 0; j < 5 + 3 * i; ++j)
          nr.prompt_token_ids.push_back((j * 37 + i * 11) % 97 + 3);
        nr.sampling_params = params[i];
        nr.eos_token_id = 1;
        for (int b = 0; b < kBlocksPerReq; ++b) nr.block_ids.push_back(i * kBlocksPerReq + b);
        so.num_scheduled_tokens[id] = static_cast<int32_t>(nr.prompt_token_ids.size());
        computed[i] = so.num_scheduled_tokens[id];
        so.scheduled_new_reqs.push_back(nr);
      } else {
        so.scheduled_cached_reqs.push_back({id, {run.tokens[i].back()}, {}, {}, computed[i]});
        so.num_scheduled_tokens[id] = 1;
        computed[i] += 1;
      }
      so.total_num_scheduled_tokens += so.num_scheduled_tokens[id];
    }
    auto out = (*runner)->Execute(so);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) return run;
    for (size_t k = 0; k < out->req_ids.size(); ++k) {
      const int i = std::stoi(out->req_ids[k].substr(3));
      EXPECT_EQ(out->sampled_token_ids[k].size(), 1u);
      run.tokens[i].push_back(out->sampled_token_ids[k].at(0));
      if (!out->logprobs.empty() && !out->logprobs[k].empty())
        run.logprobs[i].push_back(out->logprobs[k][0]);
    }
  }
  const DeviceSampler* ds = (*runner)->device_sampler();
  run.device_steps = ds ? ds->num_steps() : 0;
  return run;
}

std::unique_ptr<Model> LoadFixture(Device device) {
  LoadOptions o;
  o.model_dir = testing::FixtureModelDir("llama_gqa");
  if (!FileExists(JoinPath(o.model_dir, "config.json"))) return nullptr;
  o.dtype = "float32";
  o.device = device;
  auto model = LoadModel(o);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(model).value() : nullptr;
}

void ExpectSameGeneration(Model* model, ModelRunnerConfig::SamplingPath path) {
  Generated dev = Generate(model, path);
  Generated host = Generate(model, ModelRunnerConfig::SamplingPath::kHost);
  EXPECT_EQ(dev.device_steps, kSteps);
  EXPECT_EQ(host.device_steps, 0);
  ASSERT_EQ(dev.tokens.size(), host.tokens.size());
  EXPECT_EQ(host.logprobs[2].size(), static_cast<size_t>(kSteps));  // logprobs were asked for
  EXPECT_EQ(host.logprobs[4].size(), static_cast<size_t>(kSteps));
  for (size_t i = 0; i < dev.tokens.size(); ++i) {
    EXPECT_EQ(dev.tokens[i], host.tokens[i]) << "request " << i;
    ASSERT_EQ(dev.logprobs[i].size(), host.logprobs[i].size()) << "request " << i;
    for (size_t s = 0; s < dev.logprobs[i].size(); ++s) {
      const TokenLogprobs &g = dev.logprobs[i][s], &c = host.logprobs[i][s];
      EXPECT_EQ(g.token_ids, c.token_ids) << "request " << i << " step " << s;
      EXPECT_EQ(g.sampled_rank, c.sampled_rank) << "request " << i << " step " << s;
      for (size_t j = 0; j < std::min(g.logprobs.size(), c.logprobs.size()); ++j)
        EXPECT_NEAR(g.logprobs[j], c.logprobs[j], 1e-4) << "request " << i << " step " << s;
    }
  }
}

TEST(SamplingPath, CpuOpMatchesCpuSampler) {
  auto model = LoadFixture(Device::Cpu());
  if (!model) GTEST_SKIP() << "no llama_gqa fixture";
  ExpectSameGeneration(model.get(), ModelRunnerConfig::SamplingPath::kOp);
}

TEST(SamplingPath, CudaDeviceSamplingMatchesCpuSampler) {
  if (!HaveCudaDevice()) GTEST_SKIP() << "no CUDA device";
  auto model = LoadFixture(Device::Cuda(0));
  if (!model) GTEST_SKIP() << "no llama_gqa fixture";
  ExpectSameGeneration(model.get(), ModelRunnerConfig::SamplingPath::kAuto);
}

}  // namespace
}  // namespace pagellm

// ModelRunner with CUDA graphs for decode steps vs eager, on the llama_gqa fixture in float32 on
// cuda:0: greedy tokens must be identical while the batch shrinks 5 -> 3 -> 1 (three graph
// sizes, padded rows) and contexts grow past a KV block. Skips without a GPU or the fixture.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/file.h"
#include "model/testing/fixtures.h"
#include "runner/model_runner.h"
#include "tensor/buffer.h"

namespace pagellm {
namespace {

constexpr int32_t kBlockSize = 16, kBlocksPerReq = 6;
constexpr int kRequests = 5;

// Steps each request decodes before it finishes (the batch shrinks as they do).
int StepsFor(int i) { return i < 2 ? 12 : i < 4 ? 30 : 40; }

std::vector<std::vector<int32_t>> Generate(Model* model, bool graphs, int* num_graphs) {
  ModelRunnerConfig cfg;
  cfg.num_blocks = kRequests * kBlocksPerReq;
  cfg.block_size = kBlockSize;
  cfg.cuda_graphs = graphs;
  cfg.max_num_seqs = 8;
  cfg.max_model_len = kBlocksPerReq * kBlockSize;
  cfg.max_num_batched_tokens = 256;
  auto runner = ModelRunner::Create(model, cfg);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  if (!runner.ok()) return {};
  std::vector<std::vector<int32_t>> tokens(kRequests);
  std::vector<int32_t> computed(kRequests);
  for (int step = 0; step <= StepsFor(kRequests - 1); ++step) {
    SchedulerOutput so;
    for (int i = 0; i < kRequests; ++i) {
      const std::string id = "req" + std::to_string(i);
      if (step > StepsFor(i)) continue;
      if (step == StepsFor(i)) {
        so.finished_req_ids.push_back(id);
        continue;
      }
      if (step == 0) {
        NewRequestData nr;
        nr.req_id = id;
        for (int j = 0; j < 3 + 11 * i; ++j) nr.prompt_token_ids.push_back((j * 29 + i * 7) % 200 + 5);
        nr.sampling_params.temperature = 0;
        for (int b = 0; b < kBlocksPerReq; ++b) nr.block_ids.push_back(i * kBlocksPerReq + b);
        so.num_scheduled_tokens[id] = static_cast<int32_t>(nr.prompt_token_ids.size());
        computed[i] = so.num_scheduled_tokens[id];
        so.scheduled_new_reqs.push_back(nr);
      } else {
        so.scheduled_cached_reqs.push_back({id, {tokens[i].back()}, {}, {}, computed[i]});
        so.num_scheduled_tokens[id] = 1;
        computed[i] += 1;
      }
      so.total_num_scheduled_tokens += so.num_scheduled_tokens[id];
    }
    if (so.num_scheduled_tokens.empty()) break;
    auto out = (*runner)->Execute(so);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) break;
    for (size_t k = 0; k < out->req_ids.size(); ++k)
      tokens[std::stoi(out->req_ids[k].substr(3))].push_back(out->sampled_token_ids[k].at(0));
  }
  *num_graphs = (*runner)->num_cuda_graphs();
  return tokens;
}

TEST(DecodeGraphs, SameGreedyTokensAsEager) {
  Allocator* a = GetAllocator(Device::Cuda(0));
  if (a == nullptr || !a->GetMemoryInfo().ok()) GTEST_SKIP() << "no CUDA device";
  LoadOptions o;
  o.model_dir = testing::FixtureModelDir("llama_gqa");
  if (!FileExists(JoinPath(o.model_dir, "config.json"))) GTEST_SKIP() << "no fixture";
  o.dtype = "float32";
  o.device = Device::Cuda(0);
  auto model = LoadModel(o);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  int eager_graphs = -1, graphs = -1;
  const auto eager = Generate(model->get(), false, &eager_graphs);
  const auto replayed = Generate(model->get(), true, &graphs);
  EXPECT_EQ(eager_graphs, 0);
  EXPECT_GT(graphs, 3);  // 1, 2, 4, 8 captured at startup
  ASSERT_EQ(eager.size(), replayed.size());
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(eager[i].size(), static_cast<size_t>(StepsFor(i))) << "request " << i;
    EXPECT_EQ(eager[i], replayed[i]) << "request " << i;
  }
}

}  // namespace
}  // namespace pagellm

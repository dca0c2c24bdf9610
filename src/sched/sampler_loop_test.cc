// The engine loop in miniature: Scheduler → fake model (logits from the context read back from
// the simulated paged KV cache) → Sampler (real processors, seeded) → Scheduler::Update.
// Outputs (tokens and logprobs) must be identical whether requests run one at a time in a big
// pool or batched in a tiny pool with preemption, chunked prefill and prefix caching.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "sample/sampler.h"
#include "sched/fake_model_runner.h"
#include "sched/scheduler.h"

namespace pagellm {
namespace {

constexpr int32_t kVocab = 48;

std::vector<EngineCoreRequest> Workload(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> shared(12);
  for (auto& t : shared) t = 1 + rng() % (kVocab - 1);
  std::vector<EngineCoreRequest> reqs;
  for (int i = 0; i < 30; ++i) {
    EngineCoreRequest r;
    r.request_id = "q" + std::to_string(i);
    if (rng() % 2) r.prompt_token_ids = shared;
    for (int k = 1 + rng() % 20; k > 0; --k) r.prompt_token_ids.push_back(1 + rng() % (kVocab - 1));
    r.eos_token_id = 0;
    SamplingParams& p = r.sampling_params;
    p.max_tokens = 1 + rng() % 20;
    p.temperature = std::vector<double>{0.0, 0.7, 1.0}[rng() % 3];
    if (!p.is_greedy()) {
      p.seed = rng() % 100000;
      p.top_p = rng() % 2 ? 0.9 : 1.0;
      p.top_k = rng() % 2 ? 10 : 0;
      p.min_p = rng() % 3 == 0 ? 0.05 : 0.0;
      if (rng() % 4 == 0) p.n = 2;
    }
    p.presence_penalty = rng() % 3 == 0 ? 0.5 : 0.0;
    p.frequency_penalty = rng() % 3 == 0 ? 0.3 : 0.0;
    p.repetition_penalty = rng() % 3 == 0 ? 1.3 : 1.0;
    p.min_tokens = rng() % 4 == 0 ? std::min(*p.max_tokens, 2) : 0;
    if (rng() % 4 == 0) p.stop_token_ids = {int32_t(1 + rng() % (kVocab - 1))};
    if (rng() % 3 == 0) p.logprobs = 2;
    if (rng() % 5 == 0) p.logit_bias = {{5, 2.0}};
    if (rng() % 6 == 0) p.bad_words_token_ids = {{3}, {4, 6}};
    EXPECT_TRUE(p.Finalize().ok());
    reqs.push_back(std::move(r));
  }
  return reqs;
}

struct Result {
  std::vector<int32_t> tokens;
  std::vector<TokenLogprobs> logprobs;
  FinishReason reason = FinishReason::kAbort;
};

std::map<std::string, Result> RunEngine(const std::vector<EngineCoreRequest>& reqs,
                                  const SchedulerConfig& c, const CacheConfig& cc,
                                  int64_t* preemptions) {
  auto s = std::move(Scheduler::Create(c, cc)).value();
  for (const auto& r : reqs) EXPECT_TRUE(s->AddRequest(r).ok());
  FakeModelRunner runner(cc.num_gpu_blocks, cc.block_size, kVocab);
  Sampler sampler;
  runner.set_sampler(&sampler);
  std::map<std::string, Result> got;
  for (int step = 0; step < 20000 && s->HasUnfinishedRequests(); ++step) {
    SchedulerOutput so = s->Schedule();
    for (auto& o : s->Update(so, runner.Execute(so))) {
      Result& r = got[o.request_id];
      r.tokens.insert(r.tokens.end(), o.new_token_ids.begin(), o.new_token_ids.end());
      r.logprobs.insert(r.logprobs.end(), o.new_logprobs.begin(), o.new_logprobs.end());
      if (o.finish_reason) r.reason = *o.finish_reason;
    }
    EXPECT_TRUE(s->kv_cache_manager().CheckInvariants().ok());
  }
  EXPECT_FALSE(s->HasUnfinishedRequests());
  EXPECT_EQ(runner.kv_mismatches(), 0);
  EXPECT_EQ(runner.sync_errors(), 0);
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), cc.num_gpu_blocks);
  *preemptions = s->num_preemptions();
  return got;
}

TEST(SamplerLoopTest, BatchingPreemptionAndCachingDoNotChangeOutputs) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    auto reqs = Workload(seed);
    int64_t p1 = 0, p2 = 0;
    SchedulerConfig alone;
    alone.max_num_seqs = 1;
    alone.max_model_len = 128;
    auto want = RunEngine(reqs, alone, CacheConfig{4, 1024, false}, &p1);
    SchedulerConfig batched;
    batched.max_num_seqs = 8;
    batched.max_num_batched_tokens = 24;
    batched.max_model_len = 128;
    auto got = RunEngine(reqs, batched, CacheConfig{4, 16, true}, &p2);
    EXPECT_EQ(p1, 0);
    EXPECT_GT(p2, 0) << "the tiny pool should force preemption";
    ASSERT_EQ(want.size(), got.size());
    int with_logprobs = 0;
    for (const auto& [id, w] : want) {
      const Result& g = got[id];
      EXPECT_EQ(w.tokens, g.tokens) << id;
      EXPECT_EQ(w.reason, g.reason) << id;
      ASSERT_EQ(w.logprobs.size(), g.logprobs.size()) << id;
      for (size_t k = 0; k < w.logprobs.size(); ++k) {
        EXPECT_EQ(w.logprobs[k].token_ids, g.logprobs[k].token_ids) << id;
        EXPECT_EQ(w.logprobs[k].logprobs, g.logprobs[k].logprobs) << id;
        EXPECT_EQ(w.logprobs[k].token_ids[0], w.tokens[k]) << id;
      }
      with_logprobs += !w.logprobs.empty();
    }
    EXPECT_GT(with_logprobs, 0);
  }
}

}  // namespace
}  // namespace pagellm

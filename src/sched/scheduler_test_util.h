// Helpers shared by the scheduler unit tests.
#pragma once

#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sched/fake_model_runner.h"
#include "sched/scheduler.h"

namespace pagellm::testing_util {

inline constexpr int32_t kVocab = 1000;

inline std::unique_ptr<Scheduler> Make(int32_t num_blocks, SchedulerConfig c = {}, int32_t block_size = 4,
                                bool caching = true) {
  CacheConfig cc{block_size, num_blocks, caching};
  auto s = Scheduler::Create(c, cc);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

inline EngineCoreRequest Req(const std::string& id, int prompt_len, int max_tokens, int first = 1) {
  EngineCoreRequest r;
  r.request_id = id;
  r.prompt_token_ids.resize(prompt_len);
  std::iota(r.prompt_token_ids.begin(), r.prompt_token_ids.end(), first);
  r.sampling_params.max_tokens = max_tokens;
  r.sampling_params.ignore_eos = true;
  return r;
}

// One step where every request that completes its tokens samples `token`.
inline std::vector<EngineCoreOutput> StepWith(Scheduler& s, int32_t token, SchedulerOutput* out = nullptr) {
  SchedulerOutput so = s.Schedule();
  ModelRunnerOutput mo;
  for (const auto& [id, n] : so.num_scheduled_tokens) {
    mo.req_ids.push_back(id);
    mo.sampled_token_ids.push_back({token});
  }
  if (out) *out = so;
  return s.Update(so, mo);
}

// Runs to completion with the fake model; returns outputs per request id.
inline std::map<std::string, std::vector<int32_t>> RunAll(Scheduler& s, FakeModelRunner& runner,
                                                   int max_steps = 10000) {
  std::map<std::string, std::vector<int32_t>> got;
  for (int i = 0; i < max_steps && s.HasUnfinishedRequests(); ++i) {
    SchedulerOutput so = s.Schedule();
    for (auto& o : s.Update(so, runner.Execute(so)))
      got[o.request_id].insert(got[o.request_id].end(), o.new_token_ids.begin(),
                               o.new_token_ids.end());
    EXPECT_TRUE(s.kv_cache_manager().CheckInvariants().ok());
  }
  EXPECT_FALSE(s.HasUnfinishedRequests());
  EXPECT_EQ(runner.kv_mismatches(), 0);
  EXPECT_EQ(runner.sync_errors(), 0);
  return got;
}


}  // namespace pagellm::testing_util

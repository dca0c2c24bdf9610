#include "sched/scheduler.h"

#include <map>
#include <numeric>

#include <gtest/gtest.h>

#include "sched/scheduler_test_util.h"

namespace pagellm {
namespace {

using namespace testing_util;  // NOLINT

TEST(SchedulerTest, PrefillThenDecodeToMaxTokens) {
  auto s = Make(16);
  ASSERT_TRUE(s->AddRequest(Req("a", 6, 3)).ok());
  SchedulerOutput so;
  auto o1 = StepWith(*s, 7, &so);
  ASSERT_EQ(so.scheduled_new_reqs.size(), 1u);
  EXPECT_EQ(SchedulerOutputSummary(so),
            "new 1 (+6 tok) cached 0 total 6 tok preempted 0 finished 0 copies 0");
  EXPECT_EQ(so.scheduled_new_reqs[0].block_ids.size(), 2u);
  EXPECT_EQ(so.num_scheduled_tokens["a"], 6);
  ASSERT_EQ(o1.size(), 1u);
  EXPECT_EQ(o1[0].new_token_ids, std::vector<int32_t>{7});
  auto o2 = StepWith(*s, 8, &so);
  ASSERT_EQ(so.scheduled_cached_reqs.size(), 1u);
  EXPECT_EQ(so.scheduled_cached_reqs[0].new_token_ids, std::vector<int32_t>{7});
  EXPECT_EQ(so.scheduled_cached_reqs[0].num_computed_tokens, 6);
  auto o3 = StepWith(*s, 9, &so);
  EXPECT_TRUE(so.scheduled_cached_reqs[0].new_block_ids.empty());  // 8 tokens: still 2 blocks
  ASSERT_TRUE(o3[0].finished());
  EXPECT_EQ(*o3[0].finish_reason, FinishReason::kLength);
  EXPECT_EQ(FinishReasonName(*o3[0].finish_reason), "length");
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 16);
  so = s->Schedule();
  EXPECT_EQ(so.finished_req_ids, std::vector<std::string>{"a"});
  EXPECT_TRUE(so.empty());
}

TEST(SchedulerTest, ChunkedPrefillMixesWithDecodes) {
  SchedulerConfig c;
  c.max_num_batched_tokens = 8;
  auto s = Make(32, c);
  ASSERT_TRUE(s->AddRequest(Req("a", 3, 10)).ok());
  StepWith(*s, 5);
  ASSERT_TRUE(s->AddRequest(Req("b", 20, 10, 100)).ok());
  SchedulerOutput so;
  StepWith(*s, 5, &so);
  EXPECT_EQ(so.num_scheduled_tokens["a"], 1);  // decode first
  EXPECT_EQ(so.num_scheduled_tokens["b"], 7);  // then a prefill chunk filling the budget
  EXPECT_EQ(so.total_num_scheduled_tokens, 8);
  auto outs = StepWith(*s, 5, &so);
  EXPECT_EQ(so.num_scheduled_tokens["b"], 7);
  for (auto& o : outs) EXPECT_NE(o.request_id, "b");  // partial chunk: no token
  StepWith(*s, 5, &so);
  EXPECT_EQ(so.num_scheduled_tokens["b"], 6);
}

TEST(SchedulerTest, LongPrefillThresholdCapsChunks) {
  SchedulerConfig c;
  c.long_prefill_token_threshold = 5;
  auto s = Make(32, c);
  ASSERT_TRUE(s->AddRequest(Req("a", 12, 2)).ok());
  SchedulerOutput so;
  StepWith(*s, 1, &so);
  EXPECT_EQ(so.num_scheduled_tokens["a"], 5);
}

TEST(SchedulerTest, StopConditions) {
  auto s = Make(64);
  auto eos = Req("eos", 4, 10);
  eos.sampling_params.ignore_eos = false;
  eos.eos_token_id = 2;
  auto ign = Req("ign", 4, 3);
  ign.eos_token_id = 2;
  auto stop = Req("stop", 4, 10);
  stop.sampling_params.stop_token_ids = {2};
  auto minp = Req("min", 4, 10);
  minp.sampling_params.ignore_eos = false;
  minp.eos_token_id = 2;
  minp.sampling_params.min_tokens = 2;
  for (auto* r : {&eos, &ign, &stop, &minp}) ASSERT_TRUE(s->AddRequest(*r).ok());
  std::map<std::string, EngineCoreOutput> fin;
  for (int i = 0; i < 5 && s->HasUnfinishedRequests(); ++i)
    for (auto& o : StepWith(*s, 2))
      if (o.finished()) fin[o.request_id] = o;
  EXPECT_EQ(*fin["eos"].finish_reason, FinishReason::kStop);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(fin["eos"].stop_reason));
  EXPECT_EQ(*fin["ign"].finish_reason, FinishReason::kLength);
  EXPECT_EQ(*fin["stop"].finish_reason, FinishReason::kStop);
  EXPECT_EQ(std::get<int32_t>(fin["stop"].stop_reason), 2);
  EXPECT_EQ(*fin["min"].finish_reason, FinishReason::kStop);
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 64);
}

TEST(SchedulerTest, MinTokensHoldsBackStop) {
  auto s = Make(64);
  auto r = Req("m", 4, 10);
  r.sampling_params.stop_token_ids = {2};
  r.sampling_params.min_tokens = 3;
  ASSERT_TRUE(s->AddRequest(r).ok());
  int steps = 0;
  while (s->HasUnfinishedRequests()) {
    StepWith(*s, 2);
    ++steps;
  }
  EXPECT_EQ(steps, 3);
}

TEST(SchedulerTest, MaxModelLenAndNullMaxTokens) {
  SchedulerConfig c;
  c.max_model_len = 10;
  auto s = Make(64, c);
  auto r = Req("a", 6, 1);
  r.sampling_params.max_tokens.reset();  // up to the context
  ASSERT_TRUE(s->AddRequest(r).ok());
  std::vector<int32_t> toks;
  EngineCoreOutput last;
  while (s->HasUnfinishedRequests())
    for (auto& o : StepWith(*s, 3)) {
      toks.insert(toks.end(), o.new_token_ids.begin(), o.new_token_ids.end());
      last = o;
    }
  EXPECT_EQ(toks.size(), 4u);
  EXPECT_EQ(*last.finish_reason, FinishReason::kLength);
}

TEST(SchedulerTest, RejectsBadRequests) {
  SchedulerConfig c;
  c.max_model_len = 64;
  auto s = Make(4, c);
  EXPECT_EQ(s->AddRequest(Req("e", 0, 1)).code(), StatusCode::kInvalidArgument);
  auto too_long = s->AddRequest(Req("l", 65, 1));
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("longer than the maximum model length of 64"), std::string::npos);
  auto no_fit = s->AddRequest(Req("f", 10, 20));  // 29 tokens > 16 slots
  EXPECT_EQ(no_fit.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_fit.message().find("KV cache holds only 4 blocks"), std::string::npos);
  auto bad = Req("b", 4, 1);
  bad.sampling_params.temperature = -1;
  EXPECT_EQ(s->AddRequest(bad).message(), "temperature must be non-negative, got -1.0.");
  ASSERT_TRUE(s->AddRequest(Req("ok", 4, 1)).ok());
  EXPECT_EQ(s->AddRequest(Req("ok", 4, 1)).code(), StatusCode::kAlreadyExists);
  c.enable_chunked_prefill = false;
  c.max_num_batched_tokens = 32;
  EXPECT_EQ(Scheduler::Create(c, CacheConfig{4, 4, true}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SchedulerTest, PreemptsNewestAndRecomputes) {
  // 6 blocks of 4: two requests of 8-token prompts fit, but not their growth.
  auto s = Make(6);
  ASSERT_TRUE(s->AddRequest(Req("old", 8, 8)).ok());
  ASSERT_TRUE(s->AddRequest(Req("new", 8, 8, 50)).ok());
  FakeModelRunner runner(6, 4, kVocab);
  bool saw_preempt = false;
  std::map<std::string, std::vector<int32_t>> got;
  while (s->HasUnfinishedRequests()) {
    SchedulerOutput so = s->Schedule();
    if (!so.preempted_req_ids.empty()) {
      EXPECT_EQ(so.preempted_req_ids[0], "new");
      saw_preempt = true;
    }
    for (auto& o : s->Update(so, runner.Execute(so)))
      got[o.request_id].insert(got[o.request_id].end(), o.new_token_ids.begin(),
                               o.new_token_ids.end());
    ASSERT_TRUE(s->kv_cache_manager().CheckInvariants().ok());
  }
  EXPECT_TRUE(saw_preempt);
  EXPECT_GT(s->num_preemptions(), 0);
  EXPECT_EQ(runner.kv_mismatches(), 0);
  // Same outputs as each request alone in a big pool.
  for (auto [id, first] : {std::pair<std::string, int>{"old", 1}, {"new", 50}}) {
    auto alone = Make(64);
    ASSERT_TRUE(alone->AddRequest(Req(id, 8, 8, first)).ok());
    FakeModelRunner r2(64, 4, kVocab);
    EXPECT_EQ(RunAll(*alone, r2)[id], got[id]) << id;
  }
}

TEST(SchedulerTest, PriorityPolicy) {
  SchedulerConfig c;
  c.policy = SchedulingPolicy::kPriority;
  c.max_num_seqs = 1;
  auto s = Make(64, c);
  auto low = Req("low", 4, 1);
  low.priority = 5;
  auto high = Req("high", 4, 1);
  high.priority = -1;
  ASSERT_TRUE(s->AddRequest(low).ok());
  ASSERT_TRUE(s->AddRequest(high).ok());
  SchedulerOutput so;
  StepWith(*s, 1, &so);
  ASSERT_EQ(so.scheduled_new_reqs.size(), 1u);
  EXPECT_EQ(so.scheduled_new_reqs[0].req_id, "high");
}

TEST(SchedulerTest, PriorityPreemptsLargestPriority) {
  SchedulerConfig c;
  c.policy = SchedulingPolicy::kPriority;
  auto s = Make(6, c);
  auto a = Req("a", 8, 8);
  a.priority = 10;  // admitted first but least important
  auto b = Req("b", 8, 8, 50);
  b.priority = 0;
  ASSERT_TRUE(s->AddRequest(a).ok());
  ASSERT_TRUE(s->AddRequest(b).ok());
  std::vector<std::string> preempted;
  while (s->HasUnfinishedRequests()) {
    SchedulerOutput so;
    StepWith(*s, 1, &so);
    preempted.insert(preempted.end(), so.preempted_req_ids.begin(), so.preempted_req_ids.end());
    ASSERT_TRUE(s->kv_cache_manager().CheckInvariants().ok());
  }
  ASSERT_FALSE(preempted.empty());
  for (auto& id : preempted) EXPECT_EQ(id, "a");
}

TEST(SchedulerTest, AbortWaitingAndRunning) {
  SchedulerConfig c;
  c.max_num_seqs = 1;
  auto s = Make(16, c);
  ASSERT_TRUE(s->AddRequest(Req("run", 6, 10)).ok());
  ASSERT_TRUE(s->AddRequest(Req("wait", 6, 10)).ok());
  StepWith(*s, 1);
  EXPECT_EQ(s->num_running(), 1);
  EXPECT_EQ(s->num_waiting(), 1);
  std::vector<std::string> ids = {"run", "wait", "unknown"};
  s->AbortRequests(ids);
  EXPECT_FALSE(s->HasUnfinishedRequests());
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 16);
  SchedulerOutput so = s->Schedule();
  EXPECT_EQ(so.finished_req_ids, (std::vector<std::string>{"run", "wait"}));
}

TEST(SchedulerTest, FinishRequestForStopString) {
  auto s = Make(16);
  ASSERT_TRUE(s->AddRequest(Req("a", 4, 10)).ok());
  StepWith(*s, 1);
  ASSERT_TRUE(s->FinishRequest("a", FinishReason::kStop, std::string("\n\n")).ok());
  EXPECT_FALSE(s->HasUnfinishedRequests());
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 16);
  EXPECT_EQ(s->FinishRequest("a", FinishReason::kStop).code(), StatusCode::kNotFound);
}

TEST(SchedulerTest, PrefixHitAcrossRequests) {
  auto s = Make(32);
  FakeModelRunner runner(32, 4, kVocab);
  ASSERT_TRUE(s->AddRequest(Req("a", 10, 2)).ok());
  RunAll(*s, runner);
  ASSERT_TRUE(s->AddRequest(Req("b", 10, 2)).ok());
  SchedulerOutput so = s->Schedule();
  ASSERT_EQ(so.scheduled_new_reqs.size(), 1u);
  EXPECT_EQ(so.scheduled_new_reqs[0].num_computed_tokens, 8);
  EXPECT_EQ(so.num_scheduled_tokens["b"], 2);
  auto outs = s->Update(so, runner.Execute(so));
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].num_cached_tokens, 8);
}

TEST(SchedulerTest, PromptLogprobsSkipPrefixCacheReads) {
  auto s = Make(32);
  FakeModelRunner runner(32, 4, kVocab);
  ASSERT_TRUE(s->AddRequest(Req("a", 10, 2)).ok());
  RunAll(*s, runner);
  auto b = Req("b", 10, 2);
  b.sampling_params.prompt_logprobs = 1;
  ASSERT_TRUE(s->AddRequest(b).ok());
  SchedulerOutput so = s->Schedule();
  EXPECT_EQ(so.num_scheduled_tokens["b"], 10);
}

}  // namespace
}  // namespace pagellm

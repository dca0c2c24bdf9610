// Parallel sampling (n > 1 via fork + copy-on-write) and engine-driven forks (beam search).
#include <map>

#include <gtest/gtest.h>

#include "sched/scheduler_test_util.h"

namespace pagellm {
namespace {

using namespace testing_util;  // NOLINT

TEST(SchedulerTest, ParallelSamplingForksPromptBlocksWithCopyOnWrite) {
  for (bool caching : {true, false}) {
    auto s = Make(64, {}, 4, caching);
    FakeModelRunner runner(64, 4, kVocab);
    auto r = Req("p", 10, 5);
    r.sampling_params.n = 3;
    r.sampling_params.seed = 7;
    ASSERT_TRUE(s->AddRequest(r).ok());
    EXPECT_EQ(s->num_waiting(), 3);
    SchedulerOutput so = s->Schedule();
    EXPECT_EQ(so.num_scheduled_tokens.size(), 1u);  // only child 0 prefills
    std::map<std::string, std::vector<int32_t>> got;
    for (auto& o : s->Update(so, runner.Execute(so))) got[o.request_id] = o.new_token_ids;
    // Children share all 3 prompt blocks (ref 3) right after the fork.
    auto table = s->kv_cache_manager().GetBlockIds("0_p");
    EXPECT_EQ(s->kv_cache_manager().block_pool().ref_cnt(table[0]), 3);
    so = s->Schedule();
    EXPECT_EQ(so.num_scheduled_tokens["1_p"], 1);
    EXPECT_EQ(so.num_scheduled_tokens["2_p"], 1);
    EXPECT_EQ(so.block_copies.size(), 2u);  // the shared partial last block, copied twice
    EXPECT_EQ(s->kv_cache_manager().block_pool().ref_cnt(table[0]), 3);
    for (auto& o : s->Update(so, runner.Execute(so)))
      got[o.request_id].insert(got[o.request_id].end(), o.new_token_ids.begin(),
                               o.new_token_ids.end());
    for (auto& [id, t] : RunAll(*s, runner)) got[id].insert(got[id].end(), t.begin(), t.end());
    for (int i = 0; i < 3; ++i) {
      auto alone = Make(64, {}, 4, false);
      auto one = Req("x", 10, 5);
      one.sampling_params.seed = 7 + i;
      ASSERT_TRUE(alone->AddRequest(one).ok());
      FakeModelRunner r2(64, 4, kVocab);
      EXPECT_EQ(RunAll(*alone, r2)["x"], got[std::to_string(i) + "_p"]) << i;
    }
    EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 64);
  }
}

TEST(SchedulerTest, AbortParallelParentAndFirstChild) {
  auto s = Make(64);
  auto r = Req("p", 10, 5);
  r.sampling_params.n = 3;
  r.sampling_params.seed = 1;
  ASSERT_TRUE(s->AddRequest(r).ok());
  std::vector<std::string> first = {"0_p"};
  s->AbortRequests(first);  // before the fork: child 1 takes over the prefill
  EXPECT_EQ(s->GetNumUnfinishedRequests(), 2);
  FakeModelRunner runner(64, 4, kVocab);
  auto got = RunAll(*s, runner);
  EXPECT_EQ(got["1_p"].size(), 5u);
  EXPECT_EQ(got["2_p"].size(), 5u);
  ASSERT_TRUE(s->AddRequest(r).ok());
  std::vector<std::string> parent = {"p"};
  StepWith(*s, 1);
  s->AbortRequests(parent);
  EXPECT_FALSE(s->HasUnfinishedRequests());
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 64);
}

TEST(SchedulerTest, ForkAndReplaceTokenForBeamSearch) {
  auto s = Make(64);
  FakeModelRunner runner(64, 4, kVocab);
  auto r = Req("b0", 6, 20);
  ASSERT_TRUE(s->AddRequest(r).ok());
  EXPECT_EQ(s->ForkRequest("b0", "x").code(), StatusCode::kFailedPrecondition);  // waiting
  std::map<std::string, std::vector<int32_t>> got;
  auto step = [&](SchedulerOutput* keep = nullptr) {
    SchedulerOutput so = s->Schedule();
    for (auto& o : s->Update(so, runner.Execute(so)))
      got[o.request_id].insert(got[o.request_id].end(), o.new_token_ids.begin(),
                               o.new_token_ids.end());
    if (keep) *keep = so;
  };
  step();
  ASSERT_TRUE(s->ForkRequest("b0", "b1").ok());
  EXPECT_EQ(s->ForkRequest("b0", "b1").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s->ForkRequest("nope", "b2").code(), StatusCode::kNotFound);
  ASSERT_TRUE(s->ReplaceLastOutputToken("b1", 777).ok());
  got["b1"] = {777};
  SchedulerOutput so;
  step(&so);
  EXPECT_EQ(so.block_copies.size(), 1u);  // the shared partly filled block 1
  ASSERT_EQ(so.scheduled_new_reqs.size(), 1u);
  EXPECT_EQ(so.scheduled_new_reqs[0].req_id, "b1");
  for (int i = 0; i < 5; ++i) step();
  EXPECT_EQ(runner.kv_mismatches(), 0);
  EXPECT_EQ(runner.sync_errors(), 0);
  for (const char* id : {"b0", "b1"}) {
    std::vector<int32_t> ctx = r.prompt_token_ids;
    ctx.push_back(got[id][0]);
    for (size_t k = 1; k < got[id].size(); ++k) {
      EXPECT_EQ(got[id][k], FakeModelRunner::NextToken(ctx, 0, kVocab)) << id << " " << k;
      ctx.push_back(got[id][k]);
    }
  }
  // Only the last token is replaceable, and only before it is computed.
  s->Schedule();
  EXPECT_EQ(s->ReplaceLastOutputToken("b0", 1).code(), StatusCode::kFailedPrecondition);
  std::vector<std::string> ids = {"b0", "b1"};
  s->AbortRequests(ids);
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 64);
  EXPECT_TRUE(s->kv_cache_manager().CheckInvariants().ok());
  auto stats = s->GetStats();
  EXPECT_EQ(stats.num_running, 0);
  EXPECT_EQ(stats.kv_cache_usage, 0.0);
}

}  // namespace
}  // namespace pagellm

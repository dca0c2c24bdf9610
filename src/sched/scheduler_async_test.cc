// Scheduler with async_scheduling: placeholders for tokens in flight, no step scheduled past a
// placeholder that ends the request, and tokens of steps that a finish overtook are dropped.
#include "sched/scheduler_test_util.h"

namespace pagellm {
namespace {

using testing_util::Make;
using testing_util::Req;

ModelRunnerOutput Sampled(const SchedulerOutput& so, int32_t token) {
  ModelRunnerOutput mo;
  for (const auto& [id, n] : so.num_scheduled_tokens) {
    mo.req_ids.push_back(id);
    mo.sampled_token_ids.push_back({token});
  }
  return mo;
}

std::unique_ptr<Scheduler> MakeAsync(int32_t blocks) {
  SchedulerConfig c;
  c.async_scheduling = true;
  return Make(blocks, c);
}

TEST(SchedulerAsyncTest, PlaceholdersScheduleTheNextDecodeBeforeUpdate) {
  auto s = MakeAsync(16);
  ASSERT_TRUE(s->AddRequest(Req("a", 5, 3)).ok());
  SchedulerOutput s1 = s->Schedule();
  EXPECT_EQ(s1.num_scheduled_tokens.at("a"), 5);
  EXPECT_EQ(s->GetRequest("a")->num_output_placeholders, 1);
  SchedulerOutput s2 = s->Schedule();  // step 1 in flight: decode its placeholder
  ASSERT_EQ(s2.num_scheduled_tokens.at("a"), 1);
  ASSERT_EQ(s2.scheduled_cached_reqs.size(), 1u);
  EXPECT_TRUE(s2.scheduled_cached_reqs[0].new_token_ids.empty());
  EXPECT_EQ(s2.scheduled_cached_reqs[0].num_computed_tokens, 5);
  EXPECT_EQ(s->GetRequest("a")->num_output_placeholders, 2);
  auto o1 = s->Update(s1, Sampled(s1, 10));
  ASSERT_EQ(o1.size(), 1u);
  EXPECT_EQ(o1[0].new_token_ids, std::vector<int32_t>{10});
  EXPECT_EQ(s->GetRequest("a")->num_output_placeholders, 1);
  SchedulerOutput s3 = s->Schedule();
  EXPECT_EQ(s3.scheduled_cached_reqs.at(0).new_token_ids, std::vector<int32_t>{10});
  EXPECT_EQ(s3.scheduled_cached_reqs.at(0).num_computed_tokens, 6);
  s->Update(s2, Sampled(s2, 11));
  // Two outputs + one placeholder reach max_tokens 3: no step past it.
  SchedulerOutput s4 = s->Schedule();
  EXPECT_TRUE(s4.num_scheduled_tokens.empty());
  auto o3 = s->Update(s3, Sampled(s3, 12));
  ASSERT_EQ(o3.size(), 1u);
  EXPECT_EQ(o3[0].finish_reason, FinishReason::kLength);
  EXPECT_EQ(s->GetRequest("a"), nullptr);
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 16);
}

TEST(SchedulerAsyncTest, StepOvertakenByAStopDropsItsToken) {
  auto s = MakeAsync(16);
  EngineCoreRequest r = Req("a", 4, 10);
  r.sampling_params.stop_token_ids = {7};
  ASSERT_TRUE(s->AddRequest(r).ok());
  SchedulerOutput s1 = s->Schedule();
  SchedulerOutput s2 = s->Schedule();
  ASSERT_EQ(s2.num_scheduled_tokens.count("a"), 1u);
  auto o1 = s->Update(s1, Sampled(s1, 7));  // stop token: finished while step 2 holds it
  ASSERT_EQ(o1.size(), 1u);
  EXPECT_TRUE(o1[0].finished());
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 16);
  EXPECT_TRUE(s->Update(s2, Sampled(s2, 8)).empty());
  SchedulerOutput s3 = s->Schedule();
  EXPECT_EQ(s3.finished_req_ids, std::vector<std::string>{"a"});
}

TEST(SchedulerAsyncTest, PreemptionDropsTheInFlightTokenAndResumesWithKnownTokens) {
  auto s = MakeAsync(4);  // 4 blocks of 4 tokens
  ASSERT_TRUE(s->AddRequest(Req("a", 7, 6)).ok());
  ASSERT_TRUE(s->AddRequest(Req("b", 7, 6, 50)).ok());
  SchedulerOutput s1 = s->Schedule();  // both prefill: 2 blocks each
  ASSERT_EQ(s1.num_scheduled_tokens.size(), 2u);
  s->Update(s1, Sampled(s1, 20));  // tokens 7: both decode positions 7 in step 2
  SchedulerOutput s2 = s->Schedule();
  SchedulerOutput s3 = s->Schedule();  // position 8 needs a third block: b is preempted
  ASSERT_EQ(s3.preempted_req_ids, std::vector<std::string>{"b"});
  EXPECT_EQ(s->GetRequest("b")->num_output_placeholders, 0);
  auto o2 = s->Update(s2, Sampled(s2, 21));
  ASSERT_EQ(o2.size(), 1u);  // b's token is dropped
  EXPECT_EQ(o2[0].request_id, "a");
  EXPECT_EQ(s->GetRequest("b")->output_token_ids, std::vector<int32_t>{20});
}

TEST(SchedulerAsyncTest, SynchronousSchedulerHasNoPlaceholders) {
  auto s = Make(16);
  ASSERT_TRUE(s->AddRequest(Req("a", 5, 3)).ok());
  s->Schedule();
  EXPECT_EQ(s->GetRequest("a")->num_output_placeholders, 0);
}

}  // namespace
}  // namespace pagellm

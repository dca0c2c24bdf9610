// Beam search driven through the Scheduler the way an engine would: each beam is a request
// (greedy, logprobs = 2 * beam_width); after every step the beam bookkeeping picks the next
// beams, which fork their parent's KV blocks (ForkRequest) and take the chosen token
// (ReplaceLastOutputToken). The result must equal beam search computed directly on full rows.
#include <map>

#include <gtest/gtest.h>

#include "sample/beam_search.h"
#include "sample/logits_processors.h"
#include "sched/fake_model_runner.h"
#include "sched/scheduler.h"

namespace pagellm {
namespace {

constexpr int32_t kVocab = 48;
constexpr int32_t kEos = 0;

std::vector<BeamSearchSequence> Reference(const std::vector<int32_t>& prompt,
                                          const BeamSearchParams& params) {
  BeamSearchInstance inst(prompt);
  for (int t = 0; t < params.max_tokens && !inst.beams.empty(); ++t) {
    std::vector<std::vector<float>> rows;
    for (const auto& b : inst.beams)
      rows.push_back(LogSoftmax(FakeModelRunner::FakeLogits(b.tokens, kVocab)));
    std::vector<std::span<const float>> spans(rows.begin(), rows.end());
    BeamSearchStep(inst, spans, params, kEos);
  }
  return BeamSearchFinalize(inst, params, kEos);
}

TEST(BeamSearchLoopTest, SchedulerDrivenBeamsMatchDirectBeamSearch) {
  BeamSearchParams params;
  params.beam_width = 3;
  params.max_tokens = 6;
  std::vector<int32_t> prompt = {5, 9, 14, 3, 22, 7, 1};
  auto s = std::move(Scheduler::Create(SchedulerConfig{}, CacheConfig{4, 64, true})).value();
  FakeModelRunner runner(64, 4, kVocab);
  Sampler sampler;
  runner.set_sampler(&sampler);

  EngineCoreRequest root;
  root.request_id = "beam0";
  root.prompt_token_ids = prompt;
  root.eos_token_id = kEos;
  root.sampling_params.temperature = 0;
  root.sampling_params.logprobs = 2 * params.beam_width;
  root.sampling_params.ignore_eos = true;  // the beam bookkeeping decides what ends
  root.sampling_params.max_tokens = params.max_tokens + 1;
  ASSERT_TRUE(s->AddRequest(root).ok());

  BeamSearchInstance inst(prompt);
  std::vector<std::string> beam_req = {"beam0"};  // request of each live beam
  int next_id = 1;
  int64_t copies = 0;
  for (int t = 0; t < params.max_tokens && !inst.beams.empty(); ++t) {
    SchedulerOutput so = s->Schedule();
    copies += int64_t(so.block_copies.size());
    std::map<std::string, TokenLogprobs> lp;
    for (auto& o : s->Update(so, runner.Execute(so))) lp[o.request_id] = o.new_logprobs.at(0);
    std::vector<TokenLogprobs> cands;
    for (const auto& id : beam_req) cands.push_back(TopCandidates(lp.at(id)));
    BeamSearchStepFromCandidates(inst, cands, params, kEos);
    // Each parent request continues as its first surviving child; the others fork from it.
    std::vector<std::string> next(inst.beams.size());
    std::vector<bool> reused(beam_req.size(), false);
    for (size_t j = 0; j < inst.beams.size(); ++j) {
      int32_t p = inst.beams[j].parent_beam;
      if (!reused[p]) {
        reused[p] = true;
        next[j] = beam_req[p];
      } else {
        next[j] = "beam" + std::to_string(next_id++);
        ASSERT_TRUE(s->ForkRequest(beam_req[p], next[j]).ok());
      }
    }
    for (size_t j = 0; j < inst.beams.size(); ++j)
      ASSERT_TRUE(s->ReplaceLastOutputToken(next[j], inst.beams[j].tokens.back()).ok());
    std::vector<std::string> dropped;
    for (size_t p = 0; p < beam_req.size(); ++p)
      if (!reused[p]) dropped.push_back(beam_req[p]);
    s->AbortRequests(dropped);
    beam_req = next;
    ASSERT_TRUE(s->kv_cache_manager().CheckInvariants().ok());
  }
  s->AbortRequests(beam_req);
  auto got = BeamSearchFinalize(inst, params, kEos);
  auto want = Reference(prompt, params);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].tokens, want[i].tokens) << i;
    EXPECT_NEAR(got[i].cum_logprob, want[i].cum_logprob, 1e-5) << i;
  }
  EXPECT_GT(copies, 0);  // forked beams copied their shared partly filled block
  EXPECT_EQ(runner.kv_mismatches(), 0);
  EXPECT_EQ(runner.sync_errors(), 0);
  EXPECT_EQ(s->kv_cache_manager().num_free_blocks(), 64);
}

}  // namespace
}  // namespace pagellm

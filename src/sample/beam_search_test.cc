#include "sample/beam_search.h"

#include <cmath>

#include <gtest/gtest.h>

namespace pagellm {
namespace {

std::vector<float> LogRow(std::vector<double> probs) {
  std::vector<float> r;
  for (double p : probs) r.push_back(p > 0 ? float(std::log(p)) : -INFINITY);
  return r;
}

TEST(BeamSearchTest, ScoreFollowsVllm) {
  std::vector<int32_t> t = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(BeamSearchScore(t, -2.0, std::nullopt, 1.0), -0.5);
  EXPECT_DOUBLE_EQ(BeamSearchScore(t, -2.0, 4, 1.0), -2.0 / 3);  // final EOS not counted
  EXPECT_DOUBLE_EQ(BeamSearchScore(t, -2.0, std::nullopt, 0.0), -2.0);
  EXPECT_DOUBLE_EQ(BeamSearchScore(t, -2.0, std::nullopt, 2.0), -2.0 / 16);
}

TEST(BeamSearchTest, ExpandsKeepsBestAndCollectsEos) {
  BeamSearchParams params;
  params.beam_width = 2;
  params.max_tokens = 2;
  const int32_t eos = 0;
  BeamSearchInstance inst({9});
  // Step 1 from the prompt: EOS is the most likely (completed), then 1 and 2 become beams.
  auto r0 = LogRow({0.4, 0.3, 0.2, 0.1});
  std::vector<std::span<const float>> rows = {r0};
  BeamSearchStep(inst, rows, params, eos);
  ASSERT_EQ(inst.completed.size(), 1u);
  EXPECT_EQ(inst.completed[0].tokens, (std::vector<int32_t>{9, 0}));
  ASSERT_EQ(inst.beams.size(), 2u);
  EXPECT_EQ(inst.beams[0].tokens.back(), 1);
  EXPECT_EQ(inst.beams[1].tokens.back(), 2);
  // Step 2: beam "1" is sure of 3; beam "2" splits evenly.
  auto a = LogRow({0.0, 0.0, 0.0, 1.0});
  auto b = LogRow({0.0, 0.5, 0.5, 0.0});
  rows = {a, b};
  BeamSearchStep(inst, rows, params, eos);
  ASSERT_EQ(inst.beams.size(), 2u);
  EXPECT_EQ(inst.beams[0].tokens, (std::vector<int32_t>{9, 1, 3}));
  EXPECT_EQ(inst.beams[0].parent_beam, 0);
  EXPECT_EQ(inst.beams[1].parent_beam, 1);
  EXPECT_NEAR(inst.beams[0].cum_logprob, std::log(0.3), 1e-6);
  auto best = BeamSearchFinalize(inst, params, eos);
  ASSERT_EQ(best.size(), 2u);
  // [9,1,3]: log .3 / 3 = -0.40; [9,2,1]: log .1 / 3 = -0.77; [9,0]: log .4 / 1 = -0.92
  // (the final EOS does not count in the length).
  EXPECT_EQ(best[0].tokens, (std::vector<int32_t>{9, 1, 3}));
  EXPECT_EQ(best[1].tokens, (std::vector<int32_t>{9, 2, 1}));
  // With length_penalty 0 the score is the cumulative logprob: EOS beam -0.92 beats -1.20.
  params.length_penalty = 0.0;
  best = BeamSearchFinalize(inst, params, eos);
  EXPECT_EQ(best[0].tokens, (std::vector<int32_t>{9, 0}));
}

TEST(BeamSearchTest, IgnoreEosKeepsEosBeamsLive) {
  BeamSearchParams params;
  params.beam_width = 1;
  params.ignore_eos = true;
  BeamSearchInstance inst({9});
  auto r0 = LogRow({0.9, 0.1});
  std::vector<std::span<const float>> rows = {r0};
  BeamSearchStep(inst, rows, params, 0);
  EXPECT_TRUE(inst.completed.empty());
  EXPECT_EQ(inst.beams[0].tokens.back(), 0);
}

TEST(BeamSearchTest, FromCandidatesUsesTwoBeamWidth) {
  BeamSearchParams params;
  params.beam_width = 1;
  BeamSearchInstance inst({9});
  TokenLogprobs c;
  c.token_ids = {5, 6, 7};
  c.logprobs = {-0.1f, -0.2f, -0.3f};
  std::vector<TokenLogprobs> cands = {c};
  BeamSearchStepFromCandidates(inst, cands, params, std::nullopt);
  ASSERT_EQ(inst.beams.size(), 1u);
  EXPECT_EQ(inst.beams[0].tokens.back(), 5);
}

}  // namespace
}  // namespace pagellm

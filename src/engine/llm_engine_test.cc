// Engine invariants on a tiny CPU model (dummy weights, batch-invariant kernels):
// batched == one by one, preemption and prefix-cache hits change nothing, seeded sampling is
// reproducible, blocks never leak, and every request-level feature has an effect.
#include <gtest/gtest.h>

#include "engine/llm.h"
#include "engine/testing/tiny_model.h"

namespace pagellm {
namespace {

std::vector<PromptInput> Prompts(int n, int len, int64_t vocab) {
  return testing::TestPrompts(n, len, vocab);
}
SamplingParams Greedy(int max_tokens) { return testing::GreedyParams(max_tokens); }

class LLMEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = testing::MakeTinyLlama("engine"); }
  std::unique_ptr<LLM> Make(int32_t blocks = 256, bool prefix = true) {
    EngineArgs a = testing::TinyEngineArgs(model_, blocks);
    a.enable_prefix_caching = prefix;
    if (blocks * 16 < 512) a.max_model_len = blocks * 16;
    auto llm = LLM::Create(a);
    EXPECT_TRUE(llm.ok()) << llm.status().ToString();
    return std::move(llm).value();
  }
  static std::vector<std::vector<int32_t>> Tokens(const std::vector<RequestOutput>& outs) {
    std::vector<std::vector<int32_t>> t;
    for (const auto& o : outs) t.push_back(o.outputs.at(0).token_ids);
    return t;
  }
  void ExpectNoLeak(LLM& llm) {
    EngineStats s = llm.engine().GetStats();
    EXPECT_EQ(s.num_free_blocks, s.num_total_blocks);
    EXPECT_EQ(s.num_running + s.num_waiting, 0);
  }
  testing::TinyModel model_;
};

TEST_F(LLMEngineTest, BatchedEqualsOneByOne) {
  auto llm = Make();
  auto prompts = Prompts(6, 9, model_.vocab_size);
  auto batched = llm->Generate(prompts, {Greedy(12)});
  ASSERT_TRUE(batched.ok()) << batched.status().ToString();
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto one = llm->Generate({prompts[i]}, {Greedy(12)});
    ASSERT_TRUE(one.ok());
    EXPECT_EQ((*one)[0].outputs[0].token_ids, (*batched)[i].outputs[0].token_ids) << i;
    EXPECT_EQ((*batched)[i].outputs[0].token_ids.size(), 12u);
    EXPECT_EQ((*batched)[i].outputs[0].finish_reason, "length");
  }
  ExpectNoLeak(*llm);
}

TEST_F(LLMEngineTest, PreemptionAndPrefixCachingDoNotChangeOutputs) {
  auto prompts = Prompts(6, 30, model_.vocab_size);
  auto big = Make(256, /*prefix=*/false);
  auto ref = big->Generate(prompts, {Greedy(40)});
  ASSERT_TRUE(ref.ok());
  auto tiny = Make(12, /*prefix=*/true);  // 12 blocks of 16 tokens: forces preemption
  auto got = tiny->Generate(prompts, {Greedy(40)});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_GT(tiny->engine().GetStats().num_preemptions, 0);
  EXPECT_EQ(Tokens(*got), Tokens(*ref));
  ExpectNoLeak(*tiny);
  auto again = tiny->Generate(prompts, {Greedy(40)});  // prefix-cache hits now
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Tokens(*again), Tokens(*ref));
  EXPECT_GT(tiny->engine().GetStats().prefix_cache_hits, 0);
}

TEST_F(LLMEngineTest, SeededSamplingIsReproducibleAcrossBatches) {
  auto llm = Make();
  SamplingParams p;
  p.temperature = 1.0;
  p.top_k = 50;
  p.seed = 1234;
  p.max_tokens = 10;
  p.ignore_eos = true;
  auto prompts = Prompts(4, 7, model_.vocab_size);
  auto batched = llm->Generate(prompts, {p});
  auto alone = llm->Generate({prompts[2]}, {p});
  ASSERT_TRUE(batched.ok() && alone.ok());
  EXPECT_EQ((*alone)[0].outputs[0].token_ids, (*batched)[2].outputs[0].token_ids);
  p.n = 3;
  auto multi = llm->Generate({prompts[0]}, {p});
  ASSERT_TRUE(multi.ok());
  ASSERT_EQ((*multi)[0].outputs.size(), 3u);
  EXPECT_NE((*multi)[0].outputs[0].token_ids, (*multi)[0].outputs[1].token_ids);
  ExpectNoLeak(*llm);
}

TEST_F(LLMEngineTest, StopStringTruncatesText) {
  auto llm = Make();
  auto prompts = Prompts(1, 5, model_.vocab_size);
  auto full = llm->Generate(prompts, {Greedy(24)});
  ASSERT_TRUE(full.ok());
  const std::string text = (*full)[0].outputs[0].text;
  ASSERT_GT(text.size(), 8u);
  // Pick a stop string that first occurs in the middle of the text (at a char boundary).
  size_t pos = text.size() / 2;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  std::string stop = text.substr(pos, 2);
  size_t first = text.find(stop);
  SamplingParams p = Greedy(24);
  p.stop = {stop};
  auto cut = llm->Generate(prompts, {p});
  ASSERT_TRUE(cut.ok());
  const CompletionOutput& c = (*cut)[0].outputs[0];
  EXPECT_EQ(c.text, text.substr(0, first));
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_EQ(std::get<std::string>(c.stop_reason), stop);
  p.include_stop_str_in_output = true;
  auto kept = llm->Generate(prompts, {p});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ((*kept)[0].outputs[0].text, text.substr(0, first + stop.size()));
  ExpectNoLeak(*llm);
}

TEST_F(LLMEngineTest, TextPromptsLogprobsAndPromptLogprobs) {
  auto llm = Make();
  SamplingParams p = Greedy(5);
  p.logprobs = 3;
  p.prompt_logprobs = 2;
  auto out = llm->Generate({PromptInput::Text("Hello world, the thing")}, {p});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const RequestOutput& o = (*out)[0];
  ASSERT_TRUE(o.prompt_logprobs.has_value());
  ASSERT_EQ(o.prompt_logprobs->size(), o.prompt_token_ids.size());
  EXPECT_FALSE((*o.prompt_logprobs)[0].has_value());
  for (size_t i = 1; i < o.prompt_token_ids.size(); ++i) {
    EXPECT_EQ((*o.prompt_logprobs)[i]->token_ids[0], o.prompt_token_ids[i]);
  }
  ASSERT_TRUE(o.outputs[0].logprobs.has_value());
  ASSERT_EQ(o.outputs[0].logprobs->size(), 5u);
  double cum = 0;
  for (size_t i = 0; i < 5; ++i) {
    const TokenLogprobs& lp = (*o.outputs[0].logprobs)[i];
    EXPECT_EQ(lp.token_ids[0], o.outputs[0].token_ids[i]);
    EXPECT_EQ(lp.token_ids.size(), 4u);  // sampled + top 3
    EXPECT_EQ(lp.sampled_rank, 1);       // greedy picks the most likely token
    cum += lp.logprobs[0];
  }
  EXPECT_NEAR(*o.outputs[0].cumulative_logprob, cum, 1e-4);
}

TEST_F(LLMEngineTest, ClearErrors) {
  auto llm = Make();
  SamplingParams bad;
  bad.temperature = -1;
  auto r = llm->Generate(Prompts(1, 4, model_.vocab_size), {bad});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("temperature"), std::string::npos);
  std::vector<int32_t> long_prompt(600, 5);
  r = llm->Generate({PromptInput::Ids(long_prompt)}, {Greedy(4)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("maximum model length"), std::string::npos);
  r = llm->Generate({PromptInput::Ids({1, 2, 100000})}, {Greedy(4)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("out of vocabulary"), std::string::npos);
  ExpectNoLeak(*llm);
}

TEST_F(LLMEngineTest, BeamSearchReturnsBeamsBestFirst) {
  auto llm = Make();
  BeamSearchParams bp;
  bp.beam_width = 3;
  bp.max_tokens = 4;
  bp.ignore_eos = true;
  auto out = llm->BeamSearch(Prompts(2, 6, model_.vocab_size), bp);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (const auto& o : *out) {
    ASSERT_EQ(o.sequences.size(), 3u);
    for (size_t i = 1; i < o.sequences.size(); ++i) {
      EXPECT_GE(o.sequences[i - 1].score, o.sequences[i].score);
    }
    EXPECT_EQ(o.sequences[0].logprobs.size(), 4u);
  }
  // The greedy sequence scores no better than the best beam.
  auto greedy = llm->Generate({Prompts(2, 6, model_.vocab_size)[0]}, {Greedy(4)});
  ASSERT_TRUE(greedy.ok());
  ExpectNoLeak(*llm);
}

}  // namespace
}  // namespace pagellm

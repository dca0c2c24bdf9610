#include "sample/sampler.h"

#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "sample/logits_processors.h"

namespace pagellm {
namespace {

constexpr float kNegInf = -INFINITY;

SamplingParams Greedy() {
  SamplingParams p;
  p.temperature = 0;
  return p;
}

int32_t SampleOne(const SamplingParams& p, std::vector<float> logits,
                  std::vector<int32_t> output = {}, std::vector<int32_t> prompt = {},
                  std::optional<int32_t> eos = {}, std::optional<TokenLogprobs>* lp = nullptr) {
  Sampler s;
  SamplingState st{&p, prompt, output, eos};
  return s.SampleRow(logits, st, lp);
}

TEST(SamplerTest, GreedyTakesFirstMax) {
  EXPECT_EQ(SampleOne(Greedy(), {1, 3, 3, 2}), 1);
}

// Frequencies of many seeded draws follow softmax(logits / temperature).
std::vector<double> Frequencies(SamplingParams p, const std::vector<float>& logits, int draws) {
  std::vector<double> f(logits.size());
  for (int s = 0; s < draws; ++s) {
    p.seed = s;
    f[SampleOne(p, logits)] += 1.0 / draws;
  }
  return f;
}

TEST(SamplerTest, TemperatureShapesTheDistribution) {
  std::vector<float> logits = {2.0f, 1.0f, 0.0f};
  SamplingParams p;
  for (double t : {1.0, 0.5, 2.0}) {
    p.temperature = t;
    auto f = Frequencies(p, logits, 20000);
    double z = 0;
    for (float l : logits) z += std::exp(l / t);
    for (size_t i = 0; i < logits.size(); ++i)
      EXPECT_NEAR(f[i], std::exp(logits[i] / t) / z, 0.015) << "t=" << t << " token " << i;
  }
}

TEST(SamplerTest, TopKTopPMinPFilters) {
  // probs ≈ [0.5, 0.3, 0.2] with logits log p.
  std::vector<float> base = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  auto row = base;
  ApplyTopK(row, 1);
  EXPECT_EQ(row[1], kNegInf);
  EXPECT_EQ(row[2], kNegInf);
  row = base;
  ApplyTopK(row, 2);
  EXPECT_EQ(row[2], kNegInf);
  EXPECT_NE(row[1], kNegInf);
  row = base;
  ApplyTopP(row, 0.6);  // 0.5 alone < 0.6: keep 0.5 and 0.3
  EXPECT_NE(row[1], kNegInf);
  EXPECT_EQ(row[2], kNegInf);
  row = base;
  ApplyTopP(row, 0.45);  // 0.5 alone reaches 0.45
  EXPECT_EQ(row[1], kNegInf);
  EXPECT_NE(row[0], kNegInf);
  row = base;
  ApplyMinP(row, 0.5);  // threshold 0.25
  EXPECT_NE(row[1], kNegInf);
  EXPECT_EQ(row[2], kNegInf);
  // Through the sampler: only the kept tokens are ever drawn.
  SamplingParams p;
  p.top_k = 2;
  auto f = Frequencies(p, base, 2000);
  EXPECT_EQ(f[2], 0.0);
  p.top_k = 0;
  p.top_p = 0.6;
  f = Frequencies(p, base, 2000);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[0], 0.5 / 0.8, 0.04);
  p.top_p = 1.0;
  p.min_p = 0.5;
  f = Frequencies(p, base, 2000);
  EXPECT_EQ(f[2], 0.0);
}

TEST(SamplerTest, Penalties) {
  SamplingParams p = Greedy();
  std::vector<float> logits = {0, 2.0f, 1.9f, -1.0f};
  EXPECT_EQ(SampleOne(p, logits, {1}), 1);
  p.presence_penalty = 0.5;
  EXPECT_EQ(SampleOne(p, logits, {1}), 2);
  p.presence_penalty = 0;
  p.frequency_penalty = 0.06;  // 2 occurrences: 2.0 - 0.12 < 1.9
  EXPECT_EQ(SampleOne(p, logits, {1}), 1);
  EXPECT_EQ(SampleOne(p, logits, {1, 1}), 2);
  p.frequency_penalty = 0;
  p.repetition_penalty = 1.2;  // applies to prompt tokens too: 2.0 / 1.2 < 1.9
  EXPECT_EQ(SampleOne(p, logits, {}, {1}), 2);
  // Negative logits are multiplied.
  std::vector<float> row = {-1.0f, 1.0f};
  ApplyPenalties(row, p, std::vector<int32_t>{0, 1}, {});
  EXPECT_FLOAT_EQ(row[0], -1.2f);
  EXPECT_FLOAT_EQ(row[1], 1.0f / 1.2f);
  SamplingParams fp;
  fp.frequency_penalty = 0.5;
  fp.presence_penalty = 0.25;
  row = {0.0f, 0.0f};
  ApplyPenalties(row, fp, std::vector<int32_t>{0}, std::vector<int32_t>{1, 1, 1});
  EXPECT_FLOAT_EQ(row[0], 0.0f);  // prompt tokens are not frequency/presence penalized
  EXPECT_FLOAT_EQ(row[1], -1.75f);
}

TEST(SamplerTest, LogitBiasAllowedTokenIdsBadWords) {
  SamplingParams p = Greedy();
  std::vector<float> logits = {3, 2, 1, 0, 0, 0, 0, 0};
  p.logit_bias = {{5, 100.0}};
  EXPECT_EQ(SampleOne(p, logits), 5);
  p.logit_bias = {{0, -2.5}};
  EXPECT_EQ(SampleOne(p, logits), 1);
  p.logit_bias.clear();
  p.allowed_token_ids = std::vector<int32_t>{2, 3};
  EXPECT_EQ(SampleOne(p, logits), 2);
  p.allowed_token_ids.reset();
  p.bad_words_token_ids = {{0}};
  EXPECT_EQ(SampleOne(p, logits), 1);
  p.bad_words_token_ids = {{4, 0}};  // bans 0 only right after 4
  EXPECT_EQ(SampleOne(p, logits, {1}), 0);
  EXPECT_EQ(SampleOne(p, logits, {1, 4}), 1);
  p.bad_words_token_ids = {{7, 4, 0}};
  EXPECT_EQ(SampleOne(p, logits, {4}), 0);
  EXPECT_EQ(SampleOne(p, logits, {7, 4}), 1);
}

TEST(SamplerTest, MinTokensMasksEosAndStopTokens) {
  SamplingParams p = Greedy();
  p.min_tokens = 2;
  p.stop_token_ids = {1};
  std::vector<float> logits = {5, 4, 3};
  EXPECT_EQ(SampleOne(p, logits, {}, {}, /*eos=*/0), 2);
  EXPECT_EQ(SampleOne(p, logits, {9}, {}, 0), 2);
  EXPECT_EQ(SampleOne(p, logits, {9, 9}, {}, 0), 0);
}

TEST(SamplerTest, LogprobsFromRawLogits) {
  SamplingParams p;
  p.temperature = 0.5;
  p.logit_bias = {{3, 100.0}};  // processing changes the pick, not the reported logprobs
  p.logprobs = 2;
  p.seed = 1;
  std::vector<float> logits = {1, 3, 2, 0};
  auto raw = LogSoftmax(logits);
  std::optional<TokenLogprobs> lp;
  int32_t tok = SampleOne(p, logits, {}, {}, {}, &lp);
  EXPECT_EQ(tok, 3);
  ASSERT_TRUE(lp.has_value());
  ASSERT_EQ(lp->token_ids, (std::vector<int32_t>{3, 1, 2}));
  EXPECT_FLOAT_EQ(lp->logprobs[0], raw[3]);
  EXPECT_FLOAT_EQ(lp->logprobs[1], raw[1]);
  EXPECT_EQ(lp->sampled_rank, 4);
  p.logprobs = -1;
  SampleOne(p, logits, {}, {}, {}, &lp);
  EXPECT_EQ(lp->token_ids.size(), 5u);
  p.logprobs = 0;  // only the sampled token
  SampleOne(p, logits, {}, {}, {}, &lp);
  EXPECT_EQ(lp->token_ids.size(), 1u);
  p.logprobs.reset();
  SampleOne(p, logits, {}, {}, {}, &lp);
  EXPECT_FALSE(lp.has_value());
}

// Deterministic pseudo-logits for request r at step t.
std::vector<float> Row(int r, int t) {
  std::vector<float> v(50);
  for (int i = 0; i < 50; ++i) v[i] = std::sin(0.37f * i * (r + 1) + 0.11f * t);
  return v;
}

TEST(SamplerTest, SeededSamplingIgnoresBatchComposition) {
  SamplingParams a, b, c;
  a.seed = 11;
  b.seed = 22;
  c.temperature = 0.7;  // unseeded neighbour
  c.top_p = 0.9;
  auto run = [&](std::vector<int> order, std::vector<const SamplingParams*> ps) {
    Sampler sampler(order.size());
    std::map<int, std::vector<int32_t>> out;
    for (int t = 0; t < 20; ++t) {
      std::vector<std::vector<float>> rows;
      std::vector<std::span<float>> spans;
      std::vector<SamplingState> states;
      for (size_t i = 0; i < order.size(); ++i) rows.push_back(Row(order[i], t));
      for (size_t i = 0; i < order.size(); ++i) {
        spans.emplace_back(rows[i]);
        states.push_back(SamplingState{ps[i], {}, out[order[i]], {}});
      }
      SamplerOutput so = sampler.Sample(spans, states);
      for (size_t i = 0; i < order.size(); ++i) out[order[i]].push_back(so.sampled_token_ids[i]);
    }
    return out;
  };
  auto alone = run({0}, {&a});
  auto batch = run({2, 0, 1}, {&c, &a, &b});
  auto other = run({1, 2, 0}, {&b, &c, &a});
  EXPECT_EQ(alone[0], batch[0]);
  EXPECT_EQ(alone[0], other[0]);
  EXPECT_EQ(batch[1], other[1]);
  EXPECT_NE(batch[0], batch[1]);
}

TEST(SamplerTest, CounterUniformIsStateless) {
  EXPECT_EQ(CounterUniform(5, 3), CounterUniform(5, 3));
  EXPECT_NE(CounterUniform(5, 3), CounterUniform(5, 4));
  EXPECT_NE(CounterUniform(5, 3), CounterUniform(6, 3));
  for (int i = 0; i < 1000; ++i) {
    double u = CounterUniform(i, i * 7);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace pagellm

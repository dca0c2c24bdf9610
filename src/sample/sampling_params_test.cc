#include "sample/sampling_params.h"

#include <cmath>
#include <functional>

#include <gtest/gtest.h>

namespace pagellm {
namespace {

TEST(SamplingParamsTest, DefaultsMatchVllm) {
  SamplingParams p;
  EXPECT_EQ(p.n, 1);
  EXPECT_FALSE(p.best_of.has_value());
  EXPECT_EQ(p.temperature, 1.0);
  EXPECT_EQ(p.top_p, 1.0);
  EXPECT_EQ(p.top_k, 0);
  EXPECT_EQ(p.min_p, 0.0);
  EXPECT_EQ(p.presence_penalty, 0.0);
  EXPECT_EQ(p.frequency_penalty, 0.0);
  EXPECT_EQ(p.repetition_penalty, 1.0);
  EXPECT_EQ(p.max_tokens, 16);
  EXPECT_EQ(p.min_tokens, 0);
  EXPECT_FALSE(p.logprobs.has_value());
  EXPECT_FALSE(p.prompt_logprobs.has_value());
  EXPECT_FALSE(p.ignore_eos);
  EXPECT_FALSE(p.include_stop_str_in_output);
  EXPECT_TRUE(p.skip_special_tokens);
  EXPECT_TRUE(p.spaces_between_special_tokens);
  EXPECT_TRUE(p.detokenize);
  EXPECT_EQ(p.output_kind, RequestOutputKind::kCumulative);
  EXPECT_TRUE(p.Finalize().ok());
  EXPECT_FALSE(p.is_greedy());
}

struct Case {
  const char* name;
  std::function<void(SamplingParams&)> set;
  const char* message;
  StatusCode code = StatusCode::kInvalidArgument;
};

TEST(SamplingParamsTest, InvalidValuesGiveVllmMessages) {
  const Case cases[] = {
      {"n", [](auto& p) { p.n = 0; }, "n must be at least 1, got 0."},
      {"best_of<n", [](auto& p) { p.n = 2; p.best_of = 1; },
       "best_of must be greater than or equal to n, got n=2 and best_of=1."},
      {"best_of>n", [](auto& p) { p.best_of = 3; },
       "best_of > n is not supported (as in vLLM V1): request n sequences instead.",
       StatusCode::kUnimplemented},
      {"presence", [](auto& p) { p.presence_penalty = 3; },
       "presence_penalty must be in [-2, 2], got 3.0."},
      {"frequency", [](auto& p) { p.frequency_penalty = -2.5; },
       "frequency_penalty must be in [-2, 2], got -2.5."},
      {"repetition0", [](auto& p) { p.repetition_penalty = 0; },
       "repetition_penalty must be greater than zero, got 0.0."},
      {"repetition_inf", [](auto& p) { p.repetition_penalty = INFINITY; },
       "repetition_penalty must be a finite number, got inf."},
      {"temperature<0", [](auto& p) { p.temperature = -1; },
       "temperature must be non-negative, got -1.0."},
      {"temperature>2", [](auto& p) { p.temperature = 2.5; },
       "temperature must be in [0, 2], got 2.5."},
      {"temperature_nan", [](auto& p) { p.temperature = NAN; },
       "temperature must be a finite number, got nan."},
      {"top_p>1", [](auto& p) { p.top_p = 1.5; }, "top_p must be in (0, 1], got 1.5."},
      {"top_p=0", [](auto& p) { p.top_p = 0; }, "top_p must be in (0, 1], got 0.0."},
      {"top_k", [](auto& p) { p.top_k = -2; },
       "top_k must be 0 (disable), or at least 1, got -2."},
      {"min_p", [](auto& p) { p.min_p = 1.5; }, "min_p must be in [0, 1], got 1.5."},
      {"max_tokens", [](auto& p) { p.max_tokens = 0; }, "max_tokens must be at least 1, got 0."},
      {"min_tokens<0", [](auto& p) { p.min_tokens = -1; },
       "min_tokens must be greater than or equal to 0, got -1."},
      {"min>max", [](auto& p) { p.max_tokens = 3; p.min_tokens = 5; },
       "min_tokens must be less than or equal to max_tokens=3, got 5."},
      {"logprobs", [](auto& p) { p.logprobs = -2; },
       "logprobs must be non-negative or -1, got -2."},
      {"prompt_logprobs", [](auto& p) { p.prompt_logprobs = -3; },
       "prompt_logprobs must be non-negative or -1, got -3."},
      {"truncate", [](auto& p) { p.truncate_prompt_tokens = 0; },
       "truncate_prompt_tokens must be >= 1 or -1, got 0"},
      {"stop", [](auto& p) { p.stop = {"a", ""}; }, "stop cannot contain an empty string."},
      {"stop_no_detok", [](auto& p) { p.stop = {"a"}; p.detokenize = false; },
       "stop strings are only supported when detokenize is True. Set detokenize=True to use "
       "stop."},
      {"bad_words", [](auto& p) { p.bad_words = {""}; },
       "bad_words cannot contain an empty string."},
      {"allowed", [](auto& p) { p.allowed_token_ids = std::vector<int32_t>{}; },
       "allowed_token_ids is not None and empty!"},
      {"greedy_n", [](auto& p) { p.temperature = 0; p.n = 2; },
       "n must be 1 when using greedy sampling, got 2."},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    c.set(p);
    Status st = p.Finalize();
    EXPECT_EQ(st.code(), c.code) << c.name;
    EXPECT_EQ(st.message(), c.message) << c.name;
  }
}

TEST(SamplingParamsTest, FinalizeNormalizesLikeVllm) {
  SamplingParams p;
  p.seed = -1;
  p.temperature = 0.001;
  p.logit_bias = {{1, 150.0}, {2, -300.0}, {3, 5.0}};
  p.stop_token_ids = {3, 3, 1};
  p.top_k = -1;  // accepted as "off"
  ASSERT_TRUE(p.Finalize().ok());
  EXPECT_FALSE(p.seed.has_value());
  EXPECT_DOUBLE_EQ(p.temperature, 0.01);
  EXPECT_EQ(p.logit_bias[1], 100.0);
  EXPECT_EQ(p.logit_bias[2], -100.0);
  EXPECT_EQ(p.logit_bias[3], 5.0);
  EXPECT_EQ(p.stop_token_ids, (std::vector<int32_t>{3, 1}));
  EXPECT_FALSE(p.top_k_enabled());

  SamplingParams g;
  g.temperature = 0;
  g.top_p = 0.5;
  g.top_k = 5;
  g.min_p = 0.2;
  ASSERT_TRUE(g.Finalize().ok());
  EXPECT_TRUE(g.is_greedy());
  EXPECT_EQ(g.top_p, 1.0);
  EXPECT_EQ(g.top_k, 0);
  EXPECT_EQ(g.min_p, 0.0);

  SamplingParams unlimited;
  unlimited.max_tokens.reset();
  unlimited.min_tokens = 1000;  // no max to compare with
  EXPECT_TRUE(unlimited.Finalize().ok());
  SamplingParams all;
  all.logprobs = -1;
  all.prompt_logprobs = -1;
  all.truncate_prompt_tokens = -1;
  EXPECT_TRUE(all.Finalize().ok());
}

TEST(SamplingParamsTest, TokenIdsMustBeInVocab) {
  SamplingParams p;
  p.stop_token_ids = {5, 100, -1};
  EXPECT_EQ(p.VerifyTokenIds(100).message(),
            "token_id(s) [100, -1] in stop_token_ids contain out-of-vocab token ids. Vocabulary "
            "size: 100");
  p.stop_token_ids = {};
  p.logit_bias = {{200, 1.0}};
  EXPECT_EQ(p.VerifyTokenIds(100).message(),
            "token_id(s) [200] in logit_bias contain out-of-vocab token ids. Vocabulary size: 100");
  p.logit_bias = {};
  p.allowed_token_ids = std::vector<int32_t>{1, 100};
  EXPECT_EQ(p.VerifyTokenIds(100).message(), "allowed_token_ids contains out-of-vocab token id!");
  p.allowed_token_ids.reset();
  p.bad_words_token_ids = {{1, 2}, {101}};
  EXPECT_NE(p.VerifyTokenIds(100).message().find("[101]"), std::string::npos);
  p.bad_words_token_ids = {{1, 2}};
  EXPECT_TRUE(p.VerifyTokenIds(100).ok());
}

TEST(SamplingParamsTest, LogprobsLimit) {
  SamplingParams p;
  p.logprobs = 30;
  EXPECT_EQ(p.VerifyLogprobs(20, 1000).message(),
            "Requested sample logprobs of 30, which is greater than max allowed: 20");
  EXPECT_TRUE(p.VerifyLogprobs(-1, 1000).ok());
  p.logprobs.reset();
  p.prompt_logprobs = -1;
  EXPECT_EQ(p.VerifyLogprobs(20, 1000).message(),
            "Requested prompt logprobs of 1000, which is greater than max allowed: 20");
}

TEST(BeamSearchParamsTest, Validate) {
  BeamSearchParams b;
  EXPECT_TRUE(b.Validate().ok());
  b.beam_width = 0;
  EXPECT_EQ(b.Validate().message(), "beam_width must be at least 1, got 0.");
  b.beam_width = 2;
  b.max_tokens = 0;
  EXPECT_EQ(b.Validate().message(), "max_tokens must be at least 1, got 0.");
  b.max_tokens = 4;
  b.temperature = -1;
  EXPECT_EQ(b.Validate().message(), "temperature must be non-negative, got -1.0.");
}

TEST(PyFloatTest, PythonRepr) {
  EXPECT_EQ(PyFloat(1.0), "1.0");
  EXPECT_EQ(PyFloat(-1), "-1.0");
  EXPECT_EQ(PyFloat(1.5), "1.5");
  EXPECT_EQ(PyFloat(0.1), "0.1");
  EXPECT_EQ(PyFloat(1e-20), "1e-20");
}

}  // namespace
}  // namespace pagellm

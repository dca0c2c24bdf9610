#include "sample/stop_checker.h"

#include <gtest/gtest.h>

namespace pagellm {
namespace {

TEST(StopCheckerTest, StopStringTruncatesBeforeIt) {
  std::vector<std::string> stop = {"\n\n", "END"};
  auto m = CheckStopStrings("Hello END", 3, stop, false);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->stop_string, "END");
  EXPECT_EQ(m->truncate_to, 6);
  EXPECT_FALSE(CheckStopStrings("Hello EN", 2, stop, false).has_value());
}

TEST(StopCheckerTest, IncludeStopStrInOutput) {
  std::vector<std::string> stop = {"END"};
  auto m = CheckStopStrings("Hello END", 3, stop, true);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->truncate_to, -1);  // the text already ends with it
  m = CheckStopStrings("Hello END!!", 5, stop, true);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->truncate_to, 9);
}

TEST(StopCheckerTest, SearchesOnlyWhatNewTextCanComplete) {
  std::vector<std::string> stop = {"ab"};
  // "ab" lies entirely in old text: it was checked before, not matched again.
  EXPECT_FALSE(CheckStopStrings("ab xyz", 3, stop, false).has_value());
  // The new "b" completes "ab" across the boundary.
  auto m = CheckStopStrings("xab", 1, stop, false);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->truncate_to, 1);
  EXPECT_FALSE(CheckStopStrings("xab", 0, stop, false).has_value());
}

TEST(StopCheckerTest, Holdback) {
  SamplingParams p;
  EXPECT_EQ(StopStringHoldback(p), 0);
  p.stop = {"a", "abcd"};
  EXPECT_EQ(StopStringHoldback(p), 3);
  p.include_stop_str_in_output = true;
  EXPECT_EQ(StopStringHoldback(p), 0);
}

TEST(StopCheckerTest, TruncatePromptKeepsTheEnd) {
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  SamplingParams p;
  EXPECT_EQ(TruncatePrompt(prompt, p, 100), prompt);
  p.truncate_prompt_tokens = 2;
  EXPECT_EQ(TruncatePrompt(prompt, p, 100), (std::vector<int32_t>{4, 5}));
  p.truncate_prompt_tokens = -1;
  EXPECT_EQ(TruncatePrompt(prompt, p, 3), (std::vector<int32_t>{3, 4, 5}));
  p.truncate_prompt_tokens = 10;
  EXPECT_EQ(TruncatePrompt(prompt, p, 100), prompt);
}

TEST(StopCheckerTest, GenerationConfigEos) {
  SamplingParams p;
  p.stop_token_ids = {7};
  AddGenerationConfigEos(p, {2, 128001, 128009}, 2);
  EXPECT_EQ(p.stop_token_ids, (std::vector<int32_t>{7, 128001, 128009}));
  SamplingParams ignore;
  ignore.ignore_eos = true;
  AddGenerationConfigEos(ignore, {2, 5}, 2);
  EXPECT_TRUE(ignore.stop_token_ids.empty());
}

}  // namespace
}  // namespace pagellm

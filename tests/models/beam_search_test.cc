// LLM::BeamSearch against transformers' generate(num_beams=W, do_sample=False) on fixture
// models (tests/data/models/<name>/beam_expected.json, written by
// tools/fixtures/models/gen_beam_expected.py). EOS is off there, so every beam has the same
// length and both scorings rank by cumulative logprob: the beams must match, in order.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "engine/llm.h"

namespace pagellm {
namespace {

class BeamSearchGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BeamSearchGoldenTest, MatchesTransformers) {
  std::string dir = std::string(PAGELLM_SOURCE_DIR) + "/tests/data/models/" + GetParam();
  auto text = ReadFileToString(dir + "/beam_expected.json");
  if (!text.ok()) GTEST_SKIP() << "no beam_expected.json in " << dir;
  nlohmann::json want = nlohmann::json::parse(*text);
  EngineArgs args;
  args.model = dir;
  args.device = "cpu";
  args.dtype = "float32";
  args.skip_tokenizer_init = true;
  args.batch_invariant = true;
  args.kv_cache_memory = int64_t{32} << 20;
  auto llm = LLM::Create(args);
  ASSERT_TRUE(llm.ok()) << llm.status().ToString();
  BeamSearchParams bp;
  bp.beam_width = want["beam_width"].get<int>();
  bp.max_tokens = want["max_new_tokens"].get<int>();
  bp.ignore_eos = true;
  std::vector<PromptInput> prompts;
  for (const auto& c : want["cases"]) prompts.push_back(PromptInput::Ids(c["prompt"].get<std::vector<int32_t>>()));
  auto got = (*llm)->BeamSearch(prompts, bp);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& c = want["cases"][i];
    const auto& seqs = (*got)[i].sequences;
    ASSERT_EQ(seqs.size(), c["sequences"].size());
    size_t plen = c["prompt"].size();
    for (size_t b = 0; b < seqs.size(); ++b) {
      std::vector<int32_t> gen(seqs[b].tokens.begin() + plen, seqs[b].tokens.end());
      EXPECT_EQ(gen, c["sequences"][b].get<std::vector<int32_t>>()) << "prompt " << i << " beam " << b;
      // transformers' score is the cumulative logprob over the generated length.
      double hf_cum = c["scores"][b].get<double>() * static_cast<double>(gen.size());
      EXPECT_NEAR(seqs[b].cum_logprob, hf_cum, 1e-3) << "prompt " << i << " beam " << b;
    }
  }
  EngineStats s = (*llm)->engine().GetStats();
  EXPECT_EQ(s.num_free_blocks, s.num_total_blocks);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BeamSearchGoldenTest,
                         ::testing::Values("llama_gqa", "mistral_window", "qwen2_tied"));

}  // namespace
}  // namespace pagellm

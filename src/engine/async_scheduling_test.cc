// --async-scheduling on a tiny CPU model (op sampling, batch-invariant kernels): token for token
// the outputs of the synchronous engine, for every request feature, with preemption, chunked
// prefill, requests arriving and aborted mid-flight, and the synchronous fallbacks.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "engine/llm.h"
#include "engine/testing/tiny_model.h"

namespace pagellm {
namespace {

std::vector<PromptInput> Prompts(int n, int len, int64_t vocab) {
  return testing::TestPrompts(n, len, vocab);
}
SamplingParams Greedy(int max_tokens) { return testing::GreedyParams(max_tokens); }

SamplingParams Seeded(int max_tokens, int64_t seed) {
  SamplingParams p;
  p.temperature = 0.9;
  p.top_k = 40;
  p.top_p = 0.9;
  p.seed = seed;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  return p;
}

class AsyncSchedulingTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = testing::MakeTinyLlama("async"); }
  std::unique_ptr<LLM> Make(bool async, int32_t blocks = 256,
                            std::optional<int32_t> batched_tokens = std::nullopt) {
    EngineArgs a = testing::TinyEngineArgs(model_, blocks);
    a.op_sampling = true;
    a.async_scheduling = async;
    a.max_num_batched_tokens = batched_tokens;
    a.max_logprobs = 40;
    if (blocks * 16 < 512) a.max_model_len = blocks * 16;
    auto llm = LLM::Create(a);
    EXPECT_TRUE(llm.ok()) << llm.status().ToString();
    return std::move(llm).value();
  }
  // Runs the same requests on a synchronous and an async engine and expects identical outputs.
  void ExpectSame(const std::vector<PromptInput>& prompts, const std::vector<SamplingParams>& params,
                  int32_t blocks = 256, bool expect_async = true) {
    auto sync = Make(false, blocks);
    auto async = Make(true, blocks);
    auto want = sync->Generate(prompts, params);
    auto got = async->Generate(prompts, params);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectOutputsEqual(*want, *got);
    if (expect_async) {
      EXPECT_GT(async->engine().num_async_steps(), 0);
    }
    ExpectNoLeak(*async);
  }
  static void ExpectOutputsEqual(const std::vector<RequestOutput>& want,
                                 const std::vector<RequestOutput>& got) {
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(want[i].outputs.size(), got[i].outputs.size()) << i;
      for (size_t j = 0; j < want[i].outputs.size(); ++j) {
        const CompletionOutput& w = want[i].outputs[j];
        const CompletionOutput& g = got[i].outputs[j];
        EXPECT_EQ(w.token_ids, g.token_ids) << "request " << i << " output " << j;
        EXPECT_EQ(w.text, g.text) << i;
        EXPECT_EQ(w.finish_reason, g.finish_reason) << i;
        EXPECT_EQ(w.stop_reason, g.stop_reason) << i;
        ASSERT_EQ(w.logprobs.has_value(), g.logprobs.has_value());
        if (!w.logprobs) continue;
        ASSERT_EQ(w.logprobs->size(), g.logprobs->size());
        for (size_t k = 0; k < w.logprobs->size(); ++k) {
          EXPECT_EQ((*w.logprobs)[k].token_ids, (*g.logprobs)[k].token_ids);
          EXPECT_EQ((*w.logprobs)[k].logprobs, (*g.logprobs)[k].logprobs);
        }
      }
    }
  }
  static void ExpectNoLeak(LLM& llm) {
    EngineStats s = llm.engine().GetStats();
    EXPECT_EQ(s.num_free_blocks, s.num_total_blocks);
    EXPECT_EQ(s.num_running + s.num_waiting, 0);
    EXPECT_FALSE(llm.engine().HasUnfinishedRequests());
  }
  testing::TinyModel model_;
};

TEST_F(AsyncSchedulingTest, GreedyAndSeededSamplingMatchSync) {
  auto prompts = Prompts(6, 9, model_.vocab_size);
  std::vector<SamplingParams> params;
  for (int i = 0; i < 6; ++i) params.push_back(i % 2 ? Greedy(5 + 3 * i) : Seeded(7 + 2 * i, 11 + i));
  ExpectSame(prompts, params);
}

TEST_F(AsyncSchedulingTest, StopTokensEosMinTokensAndMaxTokens) {
  auto prompts = Prompts(5, 7, model_.vocab_size);
  // Stop on the tokens greedy decoding produces, so that requests finish mid-flight.
  auto probe = Make(false)->Generate(prompts, {Greedy(12)});
  ASSERT_TRUE(probe.ok());
  std::vector<SamplingParams> params;
  for (int i = 0; i < 5; ++i) {
    const std::vector<int32_t>& t = (*probe)[i].outputs[0].token_ids;
    SamplingParams p = i % 2 ? Seeded(12, 5 + i) : Greedy(12);
    p.stop_token_ids = {t[3]};
    if (i == 1) p.min_tokens = 6;
    if (i == 2) p.ignore_eos = false;
    if (i == 3) p.max_tokens = 1;
    params.push_back(p);
  }
  ExpectSame(prompts, params);
}

TEST_F(AsyncSchedulingTest, StopStringsFinishMidFlight) {
  auto prompts = Prompts(3, 5, model_.vocab_size);
  auto full = Make(false)->Generate(prompts, {Greedy(24)});
  ASSERT_TRUE(full.ok());
  std::vector<SamplingParams> params;
  for (int i = 0; i < 3; ++i) {
    const std::string& text = (*full)[i].outputs[0].text;
    size_t pos = text.size() / 3;
    while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
    SamplingParams p = Greedy(24);
    p.stop = {text.substr(pos, 2)};
    p.include_stop_str_in_output = i == 1;
    params.push_back(p);
  }
  ExpectSame(prompts, params);
}

TEST_F(AsyncSchedulingTest, PreemptionWithATinyKVPool) {
  auto prompts = Prompts(6, 30, model_.vocab_size);
  std::vector<SamplingParams> params;
  for (int i = 0; i < 6; ++i) params.push_back(i % 2 ? Greedy(40) : Seeded(40, 100 + i));
  auto want = Make(false, 256)->Generate(prompts, params);
  auto tiny = Make(true, 12);
  auto got = tiny->Generate(prompts, params);
  ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
  EXPECT_GT(tiny->engine().GetStats().num_preemptions, 0);
  ExpectOutputsEqual(*want, *got);
  ExpectNoLeak(*tiny);
  auto again = tiny->Generate(prompts, params);  // prefix-cache hits now
  ASSERT_TRUE(again.ok());
  ExpectOutputsEqual(*want, *again);
  EXPECT_GT(tiny->engine().GetStats().prefix_cache_hits, 0);
}

TEST_F(AsyncSchedulingTest, ParallelSamplingAndLogprobs) {
  auto prompts = Prompts(3, 8, model_.vocab_size);
  SamplingParams n3 = Seeded(9, 77);
  n3.n = 3;
  SamplingParams lp = Greedy(8);
  lp.logprobs = 4;
  SamplingParams lp_seeded = Seeded(8, 5);
  lp_seeded.logprobs = 0;
  ExpectSame(prompts, {n3, lp, lp_seeded});
}

TEST_F(AsyncSchedulingTest, BeamSearchMatchesSync) {
  BeamSearchParams bp;
  bp.beam_width = 3;
  bp.max_tokens = 5;
  bp.ignore_eos = true;
  auto prompts = Prompts(2, 6, model_.vocab_size);
  auto want = Make(false)->BeamSearch(prompts, bp);
  auto got = Make(true)->BeamSearch(prompts, bp);
  ASSERT_TRUE(want.ok() && got.ok());
  ASSERT_EQ(want->size(), got->size());
  for (size_t i = 0; i < want->size(); ++i) {
    ASSERT_EQ((*want)[i].sequences.size(), (*got)[i].sequences.size());
    for (size_t b = 0; b < (*want)[i].sequences.size(); ++b) {
      EXPECT_EQ((*want)[i].sequences[b].tokens, (*got)[i].sequences[b].tokens);
      EXPECT_EQ((*want)[i].sequences[b].score, (*got)[i].sequences[b].score);
    }
  }
}

// Streaming (delta outputs) reports every token once, in order, and the finish once.
TEST_F(AsyncSchedulingTest, DeltaOutputsConcatenateToTheFinalOutput) {
  auto want = Make(false)->Generate(Prompts(3, 8, model_.vocab_size), {Greedy(9)});
  ASSERT_TRUE(want.ok());
  EngineArgs a = testing::TinyEngineArgs(model_, 256);
  a.async_scheduling = true;
  auto engine = LLMEngine::Create(a);
  ASSERT_TRUE(engine.ok());
  auto prompts = Prompts(3, 8, model_.vocab_size);
  SamplingParams p = Greedy(9);
  p.output_kind = RequestOutputKind::kDelta;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE((*engine)->AddRequest(std::to_string(i), prompts[i], p).ok());
  std::map<std::string, std::vector<int32_t>> tokens;
  std::map<std::string, int> finishes;
  while ((*engine)->HasUnfinishedRequests()) {
    auto outs = (*engine)->Step();
    ASSERT_TRUE(outs.ok());
    for (const RequestOutput& o : *outs) {
      const auto& t = o.outputs[0].token_ids;
      tokens[o.request_id].insert(tokens[o.request_id].end(), t.begin(), t.end());
      if (o.finished) ++finishes[o.request_id];
    }
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(tokens[std::to_string(i)], (*want)[i].outputs[0].token_ids) << i;
    EXPECT_EQ(finishes[std::to_string(i)], 1) << i;
  }
}

// Requests arrive over time (chunked prefills next to decodes) and some are aborted while a
// step holds them; the rest finish exactly as on the synchronous engine.
TEST_F(AsyncSchedulingTest, ArrivalsAndAbortsMidFlight) {
  auto run = [&](bool async) {
    EngineArgs a = testing::TinyEngineArgs(model_, 256);
    a.op_sampling = true;
    a.async_scheduling = async;
    a.max_num_batched_tokens = 24;  // prompts of 20+ tokens prefill in chunks
    auto engine = LLMEngine::Create(a);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    auto prompts = Prompts(8, 20, model_.vocab_size);
    std::map<std::string, RequestOutput> done;
    int next = 0;
    for (int step = 0; (*engine)->HasUnfinishedRequests() || next < 8; ++step) {
      if (step % 3 == 0 && next < 8) {
        SamplingParams p = next % 2 ? Greedy(10 + next) : Seeded(10 + next, next);
        EXPECT_TRUE((*engine)->AddRequest("r" + std::to_string(next), prompts[next], p).ok());
        ++next;
      }
      if (step == 7 || step == 12) {
        for (RequestOutput& o : (*engine)->AbortRequests({step == 7 ? "r1" : "r2"}))
          done[o.request_id] = std::move(o);
      }
      auto outs = (*engine)->Step();
      EXPECT_TRUE(outs.ok()) << outs.status().ToString();
      for (RequestOutput& o : *outs) {
        EXPECT_FALSE(done.count(o.request_id)) << o.request_id << " reported after finishing";
        if (o.finished) done[o.request_id] = std::move(o);
      }
      if (step > 500) break;
    }
    EXPECT_EQ((*engine)->GetStats().num_free_blocks, (*engine)->GetStats().num_total_blocks);
    if (async) {
      EXPECT_GT((*engine)->num_async_steps(), 0);
    }
    return done;
  };
  auto want = run(false);
  auto got = run(true);
  ASSERT_EQ(want.size(), 8u);
  ASSERT_EQ(got.size(), 8u);
  for (auto& [id, w] : want) {
    const CompletionOutput& g = got.at(id).outputs[0];
    EXPECT_EQ(g.finish_reason, w.outputs[0].finish_reason) << id;
    if (id == "r1" || id == "r2") continue;  // aborted: async reports one token less so far
    EXPECT_EQ(g.token_ids, w.outputs[0].token_ids) << id;
  }
}

// Random workloads: requests with random sampling settings arrive at random steps into a small
// KV pool (preemption, chunked prefill, prefix hits), some are aborted; the rest finish with the
// synchronous engine's tokens.
TEST_F(AsyncSchedulingTest, RandomizedWorkloadsMatchSync) {
  int64_t preemptions = 0;
  for (uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    struct Arrival {
      int step;
      PromptInput prompt;
      SamplingParams params;
      int abort_step;  // -1: never
    };
    std::vector<Arrival> arrivals;
    auto prompts = Prompts(12, 6, model_.vocab_size);
    int step = 0;
    for (int i = 0; i < 12; ++i) {
      step += static_cast<int>(rng() % 3);
      SamplingParams p = rng() % 2 ? Greedy(1 + rng() % 24) : Seeded(1 + rng() % 24, rng() % 100);
      if (rng() % 4 == 0) p.min_tokens = static_cast<int>(rng() % (*p.max_tokens + 1));
      if (rng() % 3 == 0) p.ignore_eos = false;
      if (rng() % 4 == 0) p.stop_token_ids = {static_cast<int32_t>(3 + rng() % 60)};
      if (rng() % 5 == 0 && !p.is_greedy()) p.n = 2;
      if (rng() % 6 == 0) p.logprobs = static_cast<int>(rng() % 3);
      int abort_step = rng() % 8 == 0 ? step + 2 + static_cast<int>(rng() % 6) : -1;
      arrivals.push_back({step, prompts[i], p, abort_step});
    }
    auto run = [&](bool async) {
      EngineArgs a = testing::TinyEngineArgs(model_, 14);
      a.max_model_len = 14 * 16;
      a.op_sampling = true;
      a.async_scheduling = async;
      a.max_num_batched_tokens = 40;
      auto engine = LLMEngine::Create(a);
      EXPECT_TRUE(engine.ok()) << engine.status().ToString();
      std::map<std::string, RequestOutput> done;
      size_t next = 0;
      for (int s = 0; s < 2000 && (next < arrivals.size() || (*engine)->HasUnfinishedRequests());
           ++s) {
        for (; next < arrivals.size() && arrivals[next].step <= s; ++next) {
          const Arrival& ar = arrivals[next];
          Status st = (*engine)->AddRequest("r" + std::to_string(next), ar.prompt, ar.params);
          EXPECT_TRUE(st.ok()) << st.ToString();
        }
        for (size_t i = 0; i < next; ++i)
          if (arrivals[i].abort_step == s)
            for (RequestOutput& o : (*engine)->AbortRequests({"r" + std::to_string(i)}))
              done[o.request_id] = std::move(o);
        auto outs = (*engine)->Step();
        EXPECT_TRUE(outs.ok()) << outs.status().ToString();
        if (!outs.ok()) break;
        for (RequestOutput& o : *outs) {
          EXPECT_FALSE(done.count(o.request_id)) << o.request_id << " reported after finishing";
          if (o.finished) done[o.request_id] = std::move(o);
        }
      }
      EngineStats st = (*engine)->GetStats();
      EXPECT_EQ(st.num_free_blocks, st.num_total_blocks);
      if (async) {
        EXPECT_GT((*engine)->num_async_steps(), 0);
        preemptions += st.num_preemptions;
      }
      return done;
    };
    auto want = run(false);
    auto got = run(true);
    ASSERT_EQ(want.size(), arrivals.size()) << "seed " << seed;
    ASSERT_EQ(got.size(), arrivals.size()) << "seed " << seed;
    for (size_t i = 0; i < arrivals.size(); ++i) {
      const std::string id = "r" + std::to_string(i);
      if (arrivals[i].abort_step >= 0) continue;  // async reports one step later
      ASSERT_EQ(want[id].outputs.size(), got[id].outputs.size());
      for (size_t j = 0; j < want[id].outputs.size(); ++j) {
        EXPECT_EQ(want[id].outputs[j].token_ids, got[id].outputs[j].token_ids)
            << "seed " << seed << " " << id << " output " << j;
        EXPECT_EQ(want[id].outputs[j].finish_reason, got[id].outputs[j].finish_reason) << id;
      }
    }
  }
  EXPECT_GT(preemptions, 0);
}

// Penalties, bad words, prompt logprobs and logprobs beyond the device sampler make steps
// synchronous while such a request runs; the others keep their results.
TEST_F(AsyncSchedulingTest, SyncFallbacksMatchSync) {
  auto prompts = Prompts(5, 10, model_.vocab_size);
  SamplingParams rep = Greedy(10);
  rep.repetition_penalty = 1.3;
  SamplingParams freq = Seeded(10, 3);
  freq.frequency_penalty = 0.5;
  SamplingParams prompt_lp = Greedy(6);
  prompt_lp.prompt_logprobs = 2;
  SamplingParams many_lp = Greedy(6);
  many_lp.logprobs = 30;
  ExpectSame(prompts, {rep, freq, Greedy(12), prompt_lp, many_lp}, 256, /*expect_async=*/false);
  auto async = Make(true);
  auto out = async->Generate(prompts, {rep, Greedy(12), Greedy(14), Seeded(9, 1), Greedy(3)});
  ASSERT_TRUE(out.ok());
  EXPECT_GT(async->engine().num_async_steps(), 0);  // once the penalty request finished
}

TEST_F(AsyncSchedulingTest, RequestIdReusedWhileItsLastStepIsInFlight) {
  EngineArgs a = testing::TinyEngineArgs(model_, 256);
  a.async_scheduling = true;
  auto engine = LLMEngine::Create(a);
  ASSERT_TRUE(engine.ok());
  auto prompts = Prompts(2, 6, model_.vocab_size);
  auto sync = Make(false);
  // A stop token (not max_tokens) ends the first round, so its next step is already in flight.
  auto probe = sync->Generate({prompts[0]}, {Greedy(8)});
  ASSERT_TRUE(probe.ok());
  SamplingParams p = Greedy(8);
  p.stop_token_ids = {(*probe)[0].outputs[0].token_ids[2]};
  std::vector<std::vector<int32_t>> results;
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE((*engine)->AddRequest("same", prompts[round], p).ok());
    bool finished = false;
    while (!finished) {
      auto outs = (*engine)->Step();
      ASSERT_TRUE(outs.ok());
      for (auto& o : *outs)
        if (o.finished) {
          finished = true;
          results.push_back(o.outputs[0].token_ids);
        }
    }
  }
  for (int round = 0; round < 2; ++round) {
    auto want = sync->Generate({prompts[round]}, {p});
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(results[round], (*want)[0].outputs[0].token_ids) << round;
  }
}

}  // namespace
}  // namespace pagellm

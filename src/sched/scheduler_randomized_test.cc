// Randomized workloads (random lengths, shared prefixes, n > 1, aborts, tiny pools forcing
// preemption) against a reference computed token by token without any scheduler. Checks, after
// every step: pool invariants (ref counts == block-table entries, free list + used == total),
// no waste beyond one partly filled block per sequence, waiting requests hold no blocks; and at
// the end: identical outputs, every block free.
#include <cstdio>
#include <deque>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "sched/fake_model_runner.h"
#include "sched/scheduler.h"

namespace pagellm {
namespace {

constexpr int32_t kVocab = 64;
constexpr int32_t kEos = 0;

struct Spec {
  EngineCoreRequest req;
  int arrival_step = 0;
  int abort_step = -1;     // -1: never
  bool abort_parent = true;
};

// What child `seed` of this request generates alone.
std::vector<int32_t> Reference(const EngineCoreRequest& r, uint64_t seed, int32_t max_model_len) {
  std::vector<int32_t> tokens = r.prompt_token_ids, out;
  const auto& p = r.sampling_params;
  while (true) {
    int32_t t = FakeModelRunner::NextToken(tokens, seed, kVocab);
    tokens.push_back(t);
    out.push_back(t);
    if (int(out.size()) >= p.min_tokens && !p.ignore_eos && t == kEos) break;
    if (int(tokens.size()) >= max_model_len || int(out.size()) >= *p.max_tokens) break;
  }
  return out;
}

std::vector<Spec> MakeWorkload(std::mt19937& rng, int num_requests) {
  std::vector<std::vector<int32_t>> prefixes(3);
  for (auto& p : prefixes) {
    p.resize(std::uniform_int_distribution<>(0, 20)(rng));
    for (auto& t : p) t = std::uniform_int_distribution<>(1, 200)(rng);
  }
  std::vector<Spec> specs;
  for (int i = 0; i < num_requests; ++i) {
    Spec s;
    s.req.request_id = "r" + std::to_string(i);
    s.req.prompt_token_ids = prefixes[rng() % 3];
    int suffix = std::uniform_int_distribution<>(1, 30)(rng);
    for (int k = 0; k < suffix; ++k)
      s.req.prompt_token_ids.push_back(std::uniform_int_distribution<>(1, 200)(rng));
    auto& p = s.req.sampling_params;
    p.max_tokens = std::uniform_int_distribution<>(1, 24)(rng);
    p.ignore_eos = rng() % 2;
    p.min_tokens = rng() % 4 == 0 ? std::min(*p.max_tokens, 3) : 0;
    p.seed = rng() % 1000;
    if (rng() % 5 == 0) p.n = std::uniform_int_distribution<>(2, 3)(rng);
    s.req.eos_token_id = kEos;
    s.req.priority = rng() % 3;
    s.arrival_step = rng() % 30;
    if (rng() % 7 == 0) s.abort_step = s.arrival_step + rng() % 12;
    s.abort_parent = rng() % 2;
    specs.push_back(std::move(s));
  }
  return specs;
}

void CheckStepInvariants(const Scheduler& s) {
  const KVCacheManager& kv = s.kv_cache_manager();
  Status st = kv.CheckInvariants();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_LE(kv.num_requests(), s.GetNumUnfinishedRequests());
}

// What a trial exercised (summed over trials to prove the paths were hit).
struct Stats {
  int64_t preemptions = 0, prefix_hit_tokens = 0, block_copies = 0, aborted = 0, steps = 0;
  int64_t placeholder_decodes = 0;  // async: decodes scheduled before their input token was known
};

void CheckRequestBlocks(const Scheduler& s, const std::string& id, int32_t block_size) {
  const Request* r = s.GetRequest(id);
  if (!r) return;
  auto blocks = s.kv_cache_manager().GetBlockIds(id);
  if (r->status != RequestStatus::kRunning) {
    ASSERT_TRUE(blocks.empty()) << id << " waits holding blocks";
    return;
  }
  // A freshly forked child holds the block of the prompt token it recomputes.
  int32_t tokens = r->num_computed_tokens + (r->sent_to_runner ? 0 : 1);
  ASSERT_EQ(int32_t(blocks.size()), (tokens + block_size - 1) / block_size) << id;
}

struct Trial {
  int32_t num_blocks, block_size, max_batched, max_seqs, threshold;
  bool caching;
  SchedulingPolicy policy;
  bool async = false;  // Schedule + Execute step N+1 before Update(N)
};

void RunTrial(uint32_t seed, const Trial& t, Stats& stats) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int32_t max_model_len = 96;
  std::vector<Spec> specs = MakeWorkload(rng, 40);
  SchedulerConfig c{t.max_batched, t.max_seqs, max_model_len, t.threshold, true, t.policy};
  c.async_scheduling = t.async;
  auto created = Scheduler::Create(c, CacheConfig{t.block_size, t.num_blocks, t.caching});
  ASSERT_TRUE(created.ok());
  Scheduler& s = **created;
  FakeModelRunner runner(t.num_blocks, t.block_size, kVocab);
  std::map<std::string, std::vector<int32_t>> got;
  std::map<std::string, FinishReason> finished;
  std::vector<std::string> all_ids;
  std::deque<std::pair<SchedulerOutput, ModelRunnerOutput>> in_flight;
  auto update = [&](const SchedulerOutput& so, const ModelRunnerOutput& mo) {
    for (auto& o : s.Update(so, mo)) {
      got[o.request_id].insert(got[o.request_id].end(), o.new_token_ids.begin(),
                               o.new_token_ids.end());
      if (o.finish_reason) finished[o.request_id] = *o.finish_reason;
    }
  };
  for (int step = 0; step < 5000; ++step) {
    for (const Spec& sp : specs) {
      if (sp.arrival_step == step) {
        Status st = s.AddRequest(sp.req);
        ASSERT_TRUE(st.ok()) << st.ToString();
        int n = sp.req.sampling_params.n;
        for (int i = 0; i < n; ++i)
          all_ids.push_back(n > 1 ? std::to_string(i) + "_" + sp.req.request_id
                                  : sp.req.request_id);
      }
      if (sp.abort_step == step) {
        std::string id = sp.req.request_id;
        if (sp.req.sampling_params.n > 1 && !sp.abort_parent) id = "1_" + id;
        std::vector<std::string> ids = {id};
        s.AbortRequests(ids);
      }
    }
    if (step > 45 && !s.HasUnfinishedRequests() && in_flight.empty()) break;
    SchedulerOutput so = s.Schedule();
    ++stats.steps;
    stats.block_copies += int64_t(so.block_copies.size());
    for (const std::string& id : all_ids) CheckRequestBlocks(s, id, t.block_size);
    for (const auto& [id, n] : so.num_scheduled_tokens)
      if (s.GetRequest(id) && s.GetRequest(id)->num_output_placeholders > 1) ++stats.placeholder_decodes;
    ModelRunnerOutput mo = runner.Execute(so);
    in_flight.emplace_back(std::move(so), std::move(mo));
    // Async: the step just executed stays in flight while the previous one is updated.
    while (in_flight.size() > (t.async && s.HasUnfinishedRequests() ? 1u : 0u)) {
      update(in_flight.front().first, in_flight.front().second);
      in_flight.pop_front();
    }
    CheckStepInvariants(s);
    if (::testing::Test::HasFatalFailure()) return;
  }
  ASSERT_FALSE(s.HasUnfinishedRequests());
  stats.preemptions += s.num_preemptions();
  stats.prefix_hit_tokens += s.kv_cache_manager().prefix_cache_hits();
  EXPECT_EQ(runner.kv_mismatches(), 0);
  EXPECT_EQ(runner.sync_errors(), 0);
  EXPECT_EQ(s.kv_cache_manager().num_free_blocks(), t.num_blocks);
  EXPECT_EQ(s.kv_cache_manager().num_requests(), 0);
  for (const Spec& sp : specs) {
    int n = sp.req.sampling_params.n;
    for (int i = 0; i < n; ++i) {
      std::string id = n > 1 ? std::to_string(i) + "_" + sp.req.request_id : sp.req.request_id;
      auto want = Reference(sp.req, *sp.req.sampling_params.seed + i, max_model_len);
      const auto& have = got[id];
      if (finished.count(id)) {
        EXPECT_EQ(have, want) << id;
      } else {  // aborted: what it produced is a prefix of the reference
        ASSERT_LE(have.size(), want.size()) << id;
        EXPECT_TRUE(std::equal(have.begin(), have.end(), want.begin())) << id;
        EXPECT_TRUE(sp.abort_step >= 0) << id << " never finished";
        ++stats.aborted;
      }
    }
  }
}

TEST(SchedulerRandomizedTest, TinyPoolsForcePreemption) {
  Stats stats;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed * 7919);
    Trial t;
    t.block_size = std::vector<int32_t>{1, 4, 16}[rng() % 3];
    t.num_blocks = (96 + t.block_size - 1) / t.block_size + int(rng() % 6);  // one max request
    t.max_batched = 8 + rng() % 64;
    t.max_seqs = 2 + rng() % 8;
    t.threshold = rng() % 3 == 0 ? 5 : 0;
    t.caching = rng() % 2;
    t.policy = rng() % 2 ? SchedulingPolicy::kFcfs : SchedulingPolicy::kPriority;
    RunTrial(seed, t, stats);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(stats.preemptions, 50);
  EXPECT_GT(stats.prefix_hit_tokens, 0);
  EXPECT_GT(stats.block_copies, 0);
  EXPECT_GT(stats.aborted, 0);
  std::printf("steps %ld preemptions %ld prefix-hit tokens %ld block copies %ld aborted %ld\n",
              long(stats.steps), long(stats.preemptions), long(stats.prefix_hit_tokens),
              long(stats.block_copies), long(stats.aborted));
}

// The same workloads with async scheduling: step N+1 is scheduled and executed before step N's
// tokens reach the scheduler (placeholders); outputs still match the reference.
TEST(SchedulerRandomizedTest, AsyncSchedulingTinyPools) {
  Stats stats;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed * 7919);
    Trial t;
    t.block_size = std::vector<int32_t>{1, 4, 16}[rng() % 3];
    t.num_blocks = (96 + t.block_size - 1) / t.block_size + int(rng() % 6);
    t.max_batched = 8 + rng() % 64;
    t.max_seqs = 2 + rng() % 8;
    t.threshold = rng() % 3 == 0 ? 5 : 0;
    t.caching = rng() % 2;
    t.policy = rng() % 2 ? SchedulingPolicy::kFcfs : SchedulingPolicy::kPriority;
    t.async = true;
    RunTrial(seed, t, stats);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(stats.preemptions, 50);
  EXPECT_GT(stats.prefix_hit_tokens, 0);
  EXPECT_GT(stats.aborted, 0);
  EXPECT_GT(stats.placeholder_decodes, 1000);
}

TEST(SchedulerRandomizedTest, LargePoolsWithPrefixCaching) {
  for (uint32_t seed = 100; seed < 106; ++seed) {
    Trial t{256, 4, 256, 16, 0, true, SchedulingPolicy::kFcfs};
    Stats stats;
    RunTrial(seed, t, stats);
    EXPECT_EQ(stats.preemptions, 0);
    EXPECT_GT(stats.prefix_hit_tokens, 0);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace pagellm

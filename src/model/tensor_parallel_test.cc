// Tensor parallelism in one process: each rank is a thread with its own model shard, joined by
// an in-process communicator, so world sizes beyond what CI can launch (4, with KV heads
// replicated on pairs of ranks) run against the single-rank model. Also the Decoder's
// validation of communicators and sizes.
#include "model/tensor_parallel.h"

#include <gtest/gtest.h>

#include <barrier>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/file.h"
#include "model/decoder.h"
#include "model/registry.h"
#include "model/testing/fixtures.h"
#include "model/testing/memory_weight_source.h"
#include "model/testing/paged_harness.h"

namespace pagellm {
namespace {

// The ranks of one process; collectives meet at a barrier and sum in rank order.
class InProcessGroup {
 public:
  explicit InProcessGroup(int n) : n_(n), barrier_(n), slots_(n) {}
  int size() const { return n_; }
  Status AllReduce(int rank, Tensor& t) {
    slots_[rank] = &t;
    barrier_.arrive_and_wait();
    std::vector<float> sum(static_cast<size_t>(t.numel()), 0.f);
    for (const Tensor* s : slots_) {
      std::vector<float> v = s->ToFloatVector();
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += v[i];
    }
    barrier_.arrive_and_wait();  // everyone has read every slot
    for (size_t i = 0; i < sum.size(); ++i) StoreFromFloat(t.data(), t.dtype(), i, sum[i]);
    return OkStatus();
  }
  Status AllGather(int rank, const Tensor& in, Tensor& out) {
    slots_[rank] = const_cast<Tensor*>(&in);
    barrier_.arrive_and_wait();
    char* dst = static_cast<char*>(out.data());
    for (const Tensor* s : slots_) {
      std::memcpy(dst, s->data(), s->nbytes());
      dst += s->nbytes();
    }
    barrier_.arrive_and_wait();
    return OkStatus();
  }

 private:
  int n_;
  std::barrier<> barrier_;
  std::vector<Tensor*> slots_;
};

class FakeCommunicator final : public Communicator {
 public:
  FakeCommunicator(InProcessGroup* group, int rank, int world, std::string name = "fake")
      : group_(group), rank_(rank), world_(world), name_(std::move(name)) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string name() const override { return name_; }
  Status AllReduce(Tensor& t, ReduceOp) override {
    return group_ ? group_->AllReduce(rank_, t) : UnavailableError("no peers");
  }
  Status AllGather(const Tensor& in, Tensor& out) override {
    return group_ ? group_->AllGather(rank_, in, out) : UnavailableError("no peers");
  }
  Status Broadcast(Tensor&, int) override { return UnimplementedError("Broadcast"); }
  Status BroadcastBytes(std::string&, int) override { return UnimplementedError("Bytes"); }
  Status Barrier() override { return UnimplementedError("Barrier"); }

 private:
  InProcessGroup* group_;
  int rank_, world_;
  std::string name_;
};

DecoderSpec Tiny() {
  DecoderSpec s;
  s.vocab_size = 97;
  s.hidden_size = 32;
  s.intermediate_size = 48;
  s.num_layers = 2;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 8;
  s.max_position_embeddings = 64;
  s.norm.eps = 1e-5f;
  s.o_bias = s.mlp_bias = true;
  return s;
}

StatusOr<std::unique_ptr<Decoder>> Create(const ArchSpec& arch,
                                          std::shared_ptr<const WeightSource> w,
                                          std::shared_ptr<Communicator> comm,
                                          Device device = Device::Cpu()) {
  return Decoder::Create(ModelConfig{}, arch, std::move(w), DType::kF32, device, std::move(comm));
}

TEST(TensorParallelDecoderTest, ReportsThisRanksShare) {
  ArchSpec arch{Tiny(), {}};
  auto w = testing::RandomWeights(arch.spec, arch.names, 1);
  auto m = Create(arch, w, std::make_shared<FakeCommunicator>(nullptr, 3, 4));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->kv_cache_spec().num_kv_heads, 1);
  EXPECT_EQ((*m)->spec().num_heads, 1);
  EXPECT_EQ((*m)->vocab_size(), 97);
  // A collective that fails surfaces as the Forward's status.
  testing::PagedHarness h(m->get(), 8, 4, 0);
  EXPECT_EQ(h.Step({{0, {1, 2, 3}}}).status().code(), StatusCode::kUnavailable);
}

TEST(TensorParallelDecoderTest, RejectsSizesAndCommunicatorsThatDoNotFit) {
  ArchSpec arch{Tiny(), {}};
  auto w = testing::RandomWeights(arch.spec, arch.names, 1);
  auto m = Create(arch, w, std::make_shared<FakeCommunicator>(nullptr, 0, 8));
  ASSERT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("num_attention_heads 4"), std::string::npos);
  arch.spec.num_heads = arch.spec.num_kv_heads = 6;
  m = Create(arch, w, std::make_shared<FakeCommunicator>(nullptr, 0, 4));
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  m = Create({Tiny(), {}}, w, std::make_shared<FakeCommunicator>(nullptr, 0, 2, "mpi"),
             Device::Cuda(0));
  ASSERT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("NCCL"), std::string::npos);
}

// Runs `ranks` threads, each loading its shard and running the same steps as the single-rank
// model; every rank's logits must match.
void ExpectWorldMatchesSingleRank(const ArchSpec& arch, std::shared_ptr<const WeightSource> w,
                                  int ranks) {
  const std::vector<int32_t> a = {3, 9, 27, 81, 50, 7, 1, 64, 2, 33, 12},
                             b = {5, 6, 7, 8, 9, 10, 11};
  auto run = [&](std::shared_ptr<Communicator> comm) {
    std::vector<std::vector<float>> rows;
    auto m = Create(arch, w, std::move(comm));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return rows;
    testing::PagedHarness h(m->get(), 32, 4, 3);
    for (auto batch : {std::vector<std::pair<int, std::vector<int32_t>>>{{0, a}, {1, b}},
                       {{0, {4}}, {1, {90}}}, {{0, {17}}, {1, {2}}}}) {
      auto r = h.Step(batch);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) rows.insert(rows.end(), r->begin(), r->end());
    }
    return rows;
  };
  const auto want = run(nullptr);
  InProcessGroup group(ranks);
  std::vector<std::vector<std::vector<float>>> got(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] { got[r] = run(std::make_shared<FakeCommunicator>(&group, r, ranks)); });
  for (auto& t : threads) t.join();
  for (int r = 0; r < ranks; ++r) {
    ASSERT_EQ(got[r].size(), want.size()) << "rank " << r;
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[r][i].size(), want[i].size());
      double diff = 0, scale = 1;
      for (size_t j = 0; j < want[i].size(); ++j) {
        diff = std::max(diff, double(std::abs(got[r][i][j] - want[i][j])));
        scale = std::max(scale, double(std::abs(want[i][j])));
      }
      EXPECT_LE(diff / scale, 1e-5) << "rank " << r << " row " << i;
    }
  }
}

TEST(TensorParallelDecoderTest, FourRanksReplicateKvHeadsAndPadVocab) {
  ArchSpec arch{Tiny(), {}};
  ExpectWorldMatchesSingleRank(arch, testing::RandomWeights(arch.spec, arch.names, 2), 4);
  arch.spec.num_kv_heads = 1;
  arch.spec.tie_word_embeddings = true;
  ExpectWorldMatchesSingleRank(arch, testing::RandomWeights(arch.spec, arch.names, 3), 2);
}

// Every fixture architecture at TP=4 (their 2 or 1 KV heads are replicated over the ranks).
TEST(TensorParallelDecoderTest, FixturesAtFourRanks) {
  const std::string root = testing::FixtureModelDir();
  int ran = 0;
  for (const char* name : {"llama_gqa", "llama_mqa", "phi3_fused", "gptneox_parallel",
                           "gpt2_conv1d", "bigcode_mqa", "opt_learned_pos"}) {
    const std::string dir = JoinPath(root, name);
    auto config = LoadModelConfig(dir);
    if (!config.ok()) continue;  // fixture not generated
    auto arch = ArchSpecForConfig(*config);
    ASSERT_TRUE(arch.ok()) << arch.status().ToString();
    auto src = OpenCheckpoint(dir, LoadFormat::kAuto);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    SCOPED_TRACE(name);
    ExpectWorldMatchesSingleRank(*arch, std::shared_ptr<const WeightSource>(std::move(*src)), 4);
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "no fixture generated under " << root;
  RecordProperty("fixtures", ran);
}

}  // namespace
}  // namespace pagellm

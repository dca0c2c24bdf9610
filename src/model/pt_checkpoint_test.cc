#include "model/pt_checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "model/pt_checkpoint_test_util.h"
#include "model/safetensors.h"

namespace pagellm {
namespace {

namespace fs = std::filesystem;
using testing::MakePtArchive;
using testing::PickleWriter;
using testing::ZipWriter;

StatusOr<std::unique_ptr<PtCheckpoint>> FromBytes(std::string bytes) {
  return PtCheckpoint::FromMapped(MappedFile::FromString(std::move(bytes), "mem.bin"));
}

std::string Floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

TEST(PtCheckpointTest, StateDictZeroCopy) {
  auto c = FromBytes(MakePtArchive({{"w", {1, 2, 3, 4}}, {"b", {5}}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->Names(), (std::vector<std::string>{"w", "b"}));
  auto w = (*c)->Get("w");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->ToFloatVector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(w->buffer(), nullptr);  // a view into the archive bytes
  EXPECT_EQ((*c)->Info("b")->dtype, DType::kF32);
  EXPECT_EQ((*c)->Get("nope").status().code(), StatusCode::kNotFound);
}

// Two tensors sharing one storage (tied weights), one transposed (non-contiguous -> copy),
// a bf16 storage, a deflated entry, and zip64 directory records.
TEST(PtCheckpointTest, SharedStridedDeflatedZip64) {
  PickleWriter p;
  p.Global("collections", "OrderedDict").Op(')').Op('R').Put(0).Op('(');
  p.Str("full").Tensor("FloatStorage", "0", 6, 0, {2, 3}, {3, 1});
  p.Str("tail").Tensor("FloatStorage", "0", 6, 4, {2}, {1});
  p.Str("t").Tensor("FloatStorage", "0", 6, 0, {3, 2}, {1, 3});
  p.Str("h").Tensor("BFloat16Storage", "1", 2, 0, {2}, {1});
  p.Op('u');
  // state_dict()'s _metadata attribute arrives through BUILD.
  p.Op('}').Str("_metadata").Global("collections", "OrderedDict").Op(')').Op('R').Op('s').Op('b');
  ZipWriter z;
  z.Add("model/data.pkl", p.Finish(), /*deflate=*/true);
  z.Add("model/data/0", Floats({0, 1, 2, 3, 4, 5}), /*deflate=*/true);
  uint16_t bf[2] = {FloatToBF16(1.5f), FloatToBF16(-2.f)};
  z.Add("model/data/1", std::string(reinterpret_cast<char*>(bf), 4));
  auto c = FromBytes(z.Finish(/*zip64=*/true));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->Get("full")->ToFloatVector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ((*c)->Get("tail")->ToFloatVector(), (std::vector<float>{4, 5}));
  auto t = (*c)->Get("t");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_contiguous());
  EXPECT_EQ(t->ToFloatVector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ((*c)->Get("h")->dtype(), DType::kBF16);
  EXPECT_EQ((*c)->Get("h")->ToFloatVector(), (std::vector<float>{1.5f, -2.f}));
}

// torch writes dtypes newer than the typed storages (float8, uint16, ...) with
// _rebuild_tensor_v3 over an UntypedStorage whose size counts bytes.
TEST(PtCheckpointTest, RebuildTensorV3Float8) {
  PickleWriter p;
  p.Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
  p.Str("q").Global("torch._utils", "_rebuild_tensor_v3").Op('(').Op('(').Str("storage");
  p.Global("torch.storage", "UntypedStorage").Str("0").Str("cpu").Int(6).Op('t').Op('Q');
  p.Int(2).IntTuple({2, 2}).IntTuple({2, 1}).Op('\x89').Global("collections", "OrderedDict").Op(')').Op('R');
  p.Global("torch", "float8_e4m3fn").Op('t').Op('R');
  p.Op('u');
  ZipWriter z;
  z.Add("archive/data.pkl", p.Finish());
  z.Add("archive/data/0", std::string("\x00\x01\x38\x40\xb8\xc0", 6));
  auto c = FromBytes(z.Finish());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto q = (*c)->Get("q");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->dtype(), DType::kFP8E4M3);
  EXPECT_EQ(q->shape(), (Shape{2, 2}));
  EXPECT_EQ(static_cast<const uint8_t*>(q->data())[0], 0x38);  // starts at byte offset 2
  EXPECT_EQ(static_cast<const uint8_t*>(q->data())[3], 0xc0);
}

TEST(PtCheckpointTest, UnknownGlobalIsRefused) {
  PickleWriter p;
  p.Global("os", "system").Str("echo hi").Op('\x85').Op('R');
  ZipWriter z;
  z.Add("archive/data.pkl", p.Finish());
  Status s = FromBytes(z.Finish()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("os.system"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("mem.bin"), std::string::npos);
}

TEST(PtCheckpointTest, ViewBeyondStorageAndMissingStorage) {
  PickleWriter p;
  p.Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
  p.Str("w").Tensor("FloatStorage", "0", 4, 2, {3}, {1});  // needs elements 2..4 of 4
  p.Op('u');
  ZipWriter z;
  z.Add("archive/data.pkl", p.Finish());
  z.Add("archive/data/0", Floats({1, 2, 3, 4}));
  Status s = FromBytes(z.Finish()).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'w'"), std::string::npos) << s.ToString();

  PickleWriter q;
  q.Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
  q.Str("w").Tensor("FloatStorage", "7", 4, 0, {4}, {1});
  q.Op('u');
  ZipWriter z2;
  z2.Add("archive/data.pkl", q.Finish());
  z2.Add("archive/data/7", Floats({1, 2}));  // too small for 4 elements
  s = FromBytes(z2.Finish()).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'w'"), std::string::npos) << s.ToString();
}

TEST(PtCheckpointTest, CorruptInputsAreErrors) {
  std::string good = MakePtArchive({{"w", {1, 2, 3, 4}}});
  EXPECT_FALSE(FromBytes("").ok());
  EXPECT_EQ(FromBytes("\x80\x02}.").status().code(), StatusCode::kInvalidArgument);  // legacy format
  for (size_t cut : {good.size() - 1, good.size() - 30, good.size() / 2, size_t{100}, size_t{10}})
    EXPECT_FALSE(FromBytes(good.substr(0, cut)).ok()) << cut;
  // Every single-byte corruption must be a clean error or a successful open, never a crash.
  for (size_t i = 0; i < good.size(); i += 7) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto c = FromBytes(bad);
    if (c.ok())
      for (const auto& n : (*c)->Names()) (void)(*c)->Get(n);
  }
}

TEST(PtCheckpointTest, PickleSubset) {
  // Truncated, stack underflow, bad memo, unsupported opcode.
  for (std::string bad : {std::string("\x80\x02"), std::string("\x80\x02."), std::string("\x80\x02h\x05."),
                          std::string("\x80\x02(K\x01K\x02\x01."), std::string("\x80\x09}.")}) {
    EXPECT_FALSE(Unpickle(bad, "x").ok()) << bad.size();
  }
  // A list that contains itself is representable and harmless.
  auto r = Unpickle(std::string("\x80\x02]q\x00h\x00" "a.", 9), "x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->root->items.size(), 1u);
  EXPECT_EQ(r->root->items[0], r->root);
  // LONG1 negative, BINFLOAT, SHORT_BINUNICODE, TUPLE2, MEMOIZE.
  std::string s("\x80\x04\x8a\x01\xff" "G\x3f\xf8\x00\x00\x00\x00\x00\x00" "\x86\x94.", 17);
  auto t = Unpickle(s, "x");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->root->items[0]->i, -1);
  EXPECT_EQ(t->root->items[1]->f, 1.5);
}

TEST(PtCheckpointTest, OpenCheckpointFallsBackToShardedBin) {
  fs::path dir = fs::temp_directory_path() / ("pt_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  CHECK_OK(WriteStringToFile((dir / "pytorch_model-00001-of-00002.bin").string(), MakePtArchive({{"a", {1, 2}}})));
  CHECK_OK(WriteStringToFile((dir / "pytorch_model-00002-of-00002.bin").string(), MakePtArchive({{"b", {3}}})));
  CHECK_OK(WriteStringToFile((dir / "pytorch_model.bin.index.json").string(),
      R"({"weight_map":{"a":"pytorch_model-00001-of-00002.bin","b":"pytorch_model-00002-of-00002.bin"}})"));
  auto src = OpenCheckpoint(dir.string(), LoadFormat::kAuto);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->Get("b")->ToFloatVector(), std::vector<float>{3});
  EXPECT_EQ(OpenCheckpoint(dir.string(), LoadFormat::kSafetensors).status().code(), StatusCode::kNotFound);
  // With safetensors present, auto prefers them and pt still reads the .bin files.
  CHECK_OK(WriteSafetensors((dir / "model.safetensors").string(), {{"c", Tensor::FromVector({5}, Shape{1})}}));
  EXPECT_TRUE((*OpenCheckpoint(dir.string(), LoadFormat::kAuto))->Has("c"));
  EXPECT_TRUE((*OpenCheckpoint(dir.string(), LoadFormat::kPt))->Has("a"));
  fs::remove_all(dir);
}

std::string TestData(const std::string& rel) {
  const char* data = std::getenv("PAGELLM_TEST_DATA");
  return JoinPath(data ? data : PAGELLM_SOURCE_DIR "/tests/data", rel);
}

// Written by CPython's own pickler in torch.save's shape (tools/fixtures/make_cpython_pickle_fixture.py):
// memo puts/gets, shared storages, Python zipfile's unaligned stored entries.
TEST(PtCheckpointTest, CPythonPickledFixture) {
  auto c = PtCheckpoint::Open(TestData("pt/cpython_state_dict.bin"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->Names(), (std::vector<std::string>{"a", "a_t", "b", "n"}));  // "step" skipped
  EXPECT_EQ((*c)->Get("a")->ToFloatVector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ((*c)->Get("a_t")->ToFloatVector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  auto b = (*c)->Get("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->dtype(), DType::kF16);
  EXPECT_EQ(b->ToFloatVector(), (std::vector<float>{1.5f, -2.f}));
  auto n = (*c)->Get("n");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->data<int64_t>()[0], 7);
  EXPECT_EQ(n->data<int64_t>()[1], -8);
}

TEST(PtCheckpointTest, CommittedTorchFixture) {
  std::string path = TestData("pt/tiny_state_dict.bin");
  if (!FileExists(path)) GTEST_SKIP() << path << " not generated (tools/fixtures/make_pt_fixture.py)";
  auto c = PtCheckpoint::Open(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // make_pt_fixture.py: w = arange(6).reshape(2,3) float32, h = [1.5,-2] bf16, t = w.t() (saved
  // as a view of w's storage), i = [7, -8] int64, f8 = [1, -2] float8_e4m3fn.
  EXPECT_EQ((*c)->Get("w")->ToFloatVector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ((*c)->Get("h")->ToFloatVector(), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ((*c)->Get("t")->ToFloatVector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  auto i = (*c)->Get("i");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->dtype(), DType::kI64);
  EXPECT_EQ(i->data<int64_t>()[1], -8);
  auto f8 = (*c)->Get("f8");
  ASSERT_TRUE(f8.ok()) << f8.status().ToString();
  EXPECT_EQ(f8->dtype(), DType::kFP8E4M3);
  EXPECT_EQ(static_cast<const uint8_t*>(f8->data())[0], 0x38);
  EXPECT_EQ(static_cast<const uint8_t*>(f8->data())[1], 0xc0);
}

}  // namespace
}  // namespace pagellm

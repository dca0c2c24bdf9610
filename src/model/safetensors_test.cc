#include "model/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "model/checkpoint.h"

namespace pagellm {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("st_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& n) const { return (dir_ / n).string(); }
  // A raw file: 8-byte length, header text, then `data_bytes` bytes.
  std::string WriteRaw(const std::string& name, const std::string& header, size_t data_bytes,
                       uint64_t declared_len = UINT64_MAX) {
    std::string s(8, '\0');
    uint64_t n = declared_len == UINT64_MAX ? header.size() : declared_len;
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
    s += header;
    s.append(data_bytes, '\x01');
    CHECK_OK(WriteStringToFile(Path(name), s));
    return Path(name);
  }
  Status OpenStatus(const std::string& path) { return SafetensorsFile::Open(path).status(); }
  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripZeroCopy) {
  Tensor a = Tensor::FromVector({1, 2, 3, 4, 5, 6}, Shape{2, 3}, DType::kF32);
  Tensor b = Tensor::FromVector({0.5f, -1.5f}, Shape{2}, DType::kBF16);
  ASSERT_TRUE(WriteSafetensors(Path("m.safetensors"), {{"a", a}, {"b", b}}, {{"format", "pt"}}).ok());
  auto f = SafetensorsFile::Open(Path("m.safetensors"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->header().metadata.at("format"), "pt");
  EXPECT_EQ((*f)->Names().size(), 2u);
  auto ta = (*f)->Get("a");
  ASSERT_TRUE(ta.ok());
  EXPECT_EQ(ta->shape(), (Shape{2, 3}));
  EXPECT_EQ(ta->dtype(), DType::kF32);
  EXPECT_EQ(ta->ToFloatVector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ta->buffer(), nullptr);  // a borrowed view into the mapping, not a copy
  auto tb = (*f)->Get("b");
  ASSERT_TRUE(tb.ok());
  EXPECT_EQ(tb->ToFloatVector(), (std::vector<float>{0.5f, -1.5f}));
  auto missing = (*f)->Get("c");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("m.safetensors"), std::string::npos);
  EXPECT_NE(missing.status().message().find("'c'"), std::string::npos);
}

TEST_F(SafetensorsTest, EmptyAndScalarTensors) {
  std::string p = WriteRaw("e.safetensors",
                           R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},)"
                           R"("s":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})", 8);
  auto f = SafetensorsFile::Open(p);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->Get("e")->numel(), 0);
  EXPECT_EQ((*f)->Get("s")->rank(), 0);
}

struct BadCase {
  const char* name;
  std::string header;
  size_t data;
  StatusCode code;
  const char* needle;  // must appear in the message (tensor name or reason)
};

TEST_F(SafetensorsTest, HostileHeadersAreErrorsNamingFileAndTensor) {
  const std::vector<BadCase> cases = {
      {"notjson", "{not json", 0, StatusCode::kDataLoss, "not valid JSON"},
      {"array", "[1,2]  ", 0, StatusCode::kDataLoss, "not a JSON object"},
      {"no_dtype", R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4, StatusCode::kDataLoss, "'w'"},
      {"bad_dtype", R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", 4, StatusCode::kDataLoss, "Q7"},
      {"neg_shape", R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, StatusCode::kDataLoss, "'w'"},
      {"float_shape", R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4, StatusCode::kDataLoss, "'w'"},
      {"wrong_size", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4, StatusCode::kDataLoss, "does not match"},
      {"beyond", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4, StatusCode::kOutOfRange, "'w'"},
      {"reversed", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", 4, StatusCode::kDataLoss, "begin > end"},
      {"overlap", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, StatusCode::kDataLoss, "overlaps"},
      {"huge_shape", R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4,
       StatusCode::kDataLoss, "'w'"},
      {"rank7", R"({"w":{"dtype":"U8","shape":[1,1,1,1,1,1,1],"data_offsets":[0,1]}})", 1, StatusCode::kDataLoss, "rank"},
      {"meta", R"({"__metadata__":{"k":1}})", 0, StatusCode::kDataLoss, "__metadata__"},
      {"offsets_str", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}})", 4, StatusCode::kDataLoss, "'w'"},
  };
  for (const auto& c : cases) {
    std::string p = WriteRaw(std::string(c.name) + ".safetensors", c.header, c.data);
    Status s = OpenStatus(p);
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.name), std::string::npos) << "file name missing: " << s.ToString();
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << c.name << ": " << s.ToString();
  }
}

TEST_F(SafetensorsTest, TruncatedAndBadLengths) {
  CHECK_OK(WriteStringToFile(Path("tiny.safetensors"), "abc"));
  EXPECT_EQ(OpenStatus(Path("tiny.safetensors")).code(), StatusCode::kDataLoss);
  EXPECT_EQ(OpenStatus(WriteRaw("len.safetensors", "{}", 0, 1000)).code(), StatusCode::kDataLoss);
  EXPECT_EQ(OpenStatus(WriteRaw("big.safetensors", "{}", 0, 200ull << 20)).code(), StatusCode::kDataLoss);
  EXPECT_EQ(OpenStatus(WriteRaw("max.safetensors", "{}", 0, UINT64_MAX - 1)).code(), StatusCode::kDataLoss);
  // A valid file cut short inside the data section.
  Tensor a = Tensor::FromVector(std::vector<float>(64, 1.f), Shape{64});
  ASSERT_TRUE(WriteSafetensors(Path("cut.safetensors"), {{"a", a}}).ok());
  fs::resize_file(Path("cut.safetensors"), fs::file_size(Path("cut.safetensors")) - 10);
  Status s = OpenStatus(Path("cut.safetensors"));
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("'a'"), std::string::npos);
  EXPECT_EQ(OpenStatus(Path("nope.safetensors")).code(), StatusCode::kNotFound);
}

TEST_F(SafetensorsTest, UnsupportedDTypeIsAnErrorOnGetNotOnOpen) {
  std::string p = WriteRaw("i16.safetensors",
                           R"({"w":{"dtype":"I16","shape":[2],"data_offsets":[0,4]},)"
                           R"("d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}})", 16);
  auto f = SafetensorsFile::Open(p);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->Get("w").status().code(), StatusCode::kUnimplemented);
  auto d = (*f)->Get("d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->dtype(), DType::kF32);  // F64 is narrowed
}

TEST_F(SafetensorsTest, ShardedThroughIndex) {
  Tensor a = Tensor::FromVector({1, 2}, Shape{2});
  Tensor b = Tensor::FromVector({3, 4}, Shape{2});
  ASSERT_TRUE(WriteSafetensors(Path("model-00001-of-00002.safetensors"), {{"a", a}}).ok());
  ASSERT_TRUE(WriteSafetensors(Path("model-00002-of-00002.safetensors"), {{"b", b}}).ok());
  CHECK_OK(WriteStringToFile(Path("model.safetensors.index.json"),
      R"({"metadata":{"total_size":16},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
      R"("b":"model-00002-of-00002.safetensors"}})"));
  auto files = ListCheckpointFiles(dir_.string(), LoadFormat::kAuto);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 2u);
  auto src = OpenCheckpoint(dir_.string(), LoadFormat::kAuto);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->Get("b")->ToFloatVector(), (std::vector<float>{3, 4}));
  EXPECT_EQ((*src)->Names().size(), 2u);
  EXPECT_EQ((*src)->Info("a")->shape, Shape{2});
  // The index promises a tensor the shard lacks.
  CHECK_OK(WriteStringToFile(Path("model.safetensors.index.json"),
      R"({"weight_map":{"a":"model-00001-of-00002.safetensors","zz":"model-00002-of-00002.safetensors"}})"));
  Status s = OpenCheckpoint(dir_.string(), LoadFormat::kAuto).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'zz'"), std::string::npos) << s.ToString();
  // An index pointing outside the directory.
  CHECK_OK(WriteStringToFile(Path("model.safetensors.index.json"), R"({"weight_map":{"a":"../x.safetensors"}})"));
  EXPECT_EQ(OpenCheckpoint(dir_.string(), LoadFormat::kAuto).status().code(), StatusCode::kDataLoss);
  CHECK_OK(WriteStringToFile(Path("model.safetensors.index.json"), "{bad"));
  EXPECT_EQ(OpenCheckpoint(dir_.string(), LoadFormat::kAuto).status().code(), StatusCode::kDataLoss);
  // A missing shard.
  CHECK_OK(WriteStringToFile(Path("model.safetensors.index.json"), R"({"weight_map":{"a":"gone.safetensors"}})"));
  EXPECT_EQ(OpenCheckpoint(dir_.string(), LoadFormat::kAuto).status().code(), StatusCode::kNotFound);
}

TEST_F(SafetensorsTest, DuplicateTensorAcrossUnindexedFiles) {
  Tensor a = Tensor::FromVector({1}, Shape{1});
  ASSERT_TRUE(WriteSafetensors(Path("x.safetensors"), {{"a", a}}).ok());
  ASSERT_TRUE(WriteSafetensors(Path("y.safetensors"), {{"a", a}}).ok());
  Status s = OpenCheckpoint(dir_.string(), LoadFormat::kAuto).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'a'"), std::string::npos);
}

TEST_F(SafetensorsTest, LoadWeightChecksShapeAndConverts) {
  Tensor a = Tensor::FromVector({1, 2, 3, 4}, Shape{2, 2}, DType::kF32);
  Tensor i = Tensor::FromInts({1, 2});
  ASSERT_TRUE(WriteSafetensors(Path("w.safetensors"), {{"a", a}, {"i", i}}).ok());
  auto f = SafetensorsFile::Open(Path("w.safetensors"));
  ASSERT_TRUE(f.ok());
  auto bf = LoadWeight(**f, "a", Shape{2, 2}, DType::kBF16);
  ASSERT_TRUE(bf.ok()) << bf.status().ToString();
  EXPECT_EQ(bf->dtype(), DType::kBF16);
  EXPECT_EQ(bf->ToFloatVector(), (std::vector<float>{1, 2, 3, 4}));
  auto same = LoadWeight(**f, "a", Shape{2, 2}, DType::kF32);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->buffer(), nullptr);  // no copy when already in the dtype
  Status s = LoadWeight(**f, "a", Shape{4}, DType::kF32).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'a'"), std::string::npos);
  EXPECT_NE(s.message().find("w.safetensors"), std::string::npos);
  EXPECT_NE(s.message().find("[2, 2]"), std::string::npos) << s.ToString();
  s = LoadWeight(**f, "zz", Shape{1}, DType::kF32).status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("w.safetensors"), std::string::npos);
  EXPECT_EQ(LoadWeight(**f, "i", Shape{2}, DType::kF32).status().code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(LoadWeight(**f, "i", Shape{2}, DType::kI32).ok());
}

TEST_F(SafetensorsTest, LoadFormats) {
  EXPECT_EQ(*ParseLoadFormat("auto"), LoadFormat::kAuto);
  EXPECT_EQ(*ParseLoadFormat("safetensors"), LoadFormat::kSafetensors);
  EXPECT_EQ(*ParseLoadFormat("pt"), LoadFormat::kPt);
  EXPECT_EQ(*ParseLoadFormat("dummy"), LoadFormat::kDummy);
  EXPECT_FALSE(ParseLoadFormat("gguf").ok());
  EXPECT_EQ(OpenCheckpoint(dir_.string(), LoadFormat::kAuto).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(OpenCheckpoint(Path("nodir"), LoadFormat::kAuto).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(OpenCheckpoint(dir_.string(), LoadFormat::kSafetensors).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pagellm

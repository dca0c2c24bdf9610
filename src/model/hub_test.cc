#include "model/hub.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "model/config.h"
#include "model/hub_test_server.h"
#include "model/safetensors.h"

namespace pagellm {
namespace {

namespace fs = std::filesystem;
using testing::FakeRequest;
using testing::FakeResponse;

const std::string kSha = "0123456789abcdef0123456789abcdef01234567";
const std::string kConfig = R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":8,
  "num_attention_heads":2,"num_hidden_layers":1,"vocab_size":4})";

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);  // a CI proxy must not see the fake hub
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    dir_ = fs::temp_directory_path() / ("hub_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::string st = (dir_ / "w.safetensors").string();
    Tensor w = Tensor::FromVector(std::vector<float>(4096, 0.5f), Shape{64, 64});
    CHECK_OK(WriteSafetensors(st, {{"w", w}}));
    weights_ = *ReadFileToString(st);
    server_ = std::make_unique<testing::FakeHttpServer>([this](const FakeRequest& r) { return Handle(r); });
    opts_.endpoint = server_->endpoint();
    opts_.cache_dir = (dir_ / "cache").string();
    opts_.token = "secret";
    opts_.progress = HubOptions::Progress::kOff;
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  FakeResponse Handle(const FakeRequest& r) {
    const std::string api = "/api/models/";
    auto auth = r.headers.find("authorization");
    bool authed = auth != r.headers.end() && auth->second == "Bearer secret";
    if (r.path.rfind(api, 0) == 0) {
      if (r.path == api + "org/private/revision/main" && !authed) return {401, {}, "unauthorized"};
      if (r.path == api + "org/sharded/revision/main")
        return {200, {}, R"({"sha":")" + kSha + R"(","siblings":[{"rfilename":"config.json"},)"
                R"({"rfilename":"model-00001-of-00001.safetensors"},{"rfilename":"model-extra.safetensors"},)"
                R"({"rfilename":"model.safetensors.index.json"}]})"};
      if (r.path != api + "org/tiny/revision/main") return {404, {}, R"({"error":"Repository not found"})"};
      if (!authed) missing_auth_ = true;
      return {200, {{"Content-Type", "application/json"}},
              R"({"id":"org/tiny","sha":")" + kSha + R"(","siblings":[{"rfilename":"config.json"},)"
              R"({"rfilename":"tokenizer.json"},{"rfilename":"model.safetensors"},{"rfilename":"README.md"},)"
              R"({"rfilename":"onnx/model.onnx"},{"rfilename":"pytorch_model.bin"}]})"};
    }
    if (!authed) missing_auth_ = true;
    const std::string resolve = "/org/tiny/resolve/" + kSha + "/";
    if (r.path == resolve + "config.json") return {200, {{"ETag", "\"cfgetag1\""}}, kConfig};
    if (r.path == resolve + "tokenizer.json") return {200, {{"ETag", "W/\"tokeetag\""}}, "{}"};
    if (r.path == resolve + "model.safetensors")
      return {302, {{"Location", "/cdn/blob1"}, {"X-Linked-Etag", "\"sha256abc\""}}, ""};
    if (r.path == "/cdn/blob1") return Blob(r);
    const std::string sharded = "/org/sharded/resolve/" + kSha + "/";
    if (r.path == sharded + "config.json") return {200, {{"ETag", "\"c2\""}}, kConfig};
    if (r.path == sharded + "model.safetensors.index.json")
      return {200, {{"ETag", "\"i2\""}}, R"({"weight_map":{"w":"model-00001-of-00001.safetensors"}})"};
    if (r.path == sharded + "model-00001-of-00001.safetensors") return {200, {{"ETag", "\"s2\""}}, weights_};
    return {404, {}, "no such file"};
  }

  FakeResponse Blob(const FakeRequest& r) {
    auto range = r.headers.find("range");
    if (range != r.headers.end()) {
      saw_range_ = true;
      size_t from = std::stoul(range->second.substr(6));  // "bytes=N-"
      return {206, {{"Content-Range", "bytes " + std::to_string(from) + "-" +
                                          std::to_string(weights_.size() - 1) + "/" +
                                          std::to_string(weights_.size())}},
              weights_.substr(from)};
    }
    FakeResponse resp{200, {}, weights_};
    if (cut_next_blob_.exchange(false)) resp.cut_after = weights_.size() / 2;
    return resp;
  }

  int CountResolves() {
    int n = 0;
    for (const auto& r : server_->requests()) n += r.path.find("/resolve/") != std::string::npos;
    return n;
  }

  fs::path dir_;
  std::string weights_;
  std::unique_ptr<testing::FakeHttpServer> server_;
  HubOptions opts_;
  std::atomic<bool> missing_auth_{false}, saw_range_{false}, cut_next_blob_{false};
};

TEST_F(HubTest, DownloadsIntoHfCacheLayout) {
  auto path = ResolveModelPath("org/tiny", opts_);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  fs::path repo = fs::path(opts_.cache_dir) / "models--org--tiny";
  EXPECT_EQ(*path, (repo / "snapshots" / kSha).string());
  EXPECT_EQ(*ReadFileToString((repo / "refs/main").string()), kSha);
  EXPECT_TRUE(fs::is_symlink(repo / "snapshots" / kSha / "config.json"));
  EXPECT_EQ(fs::read_symlink(repo / "snapshots" / kSha / "model.safetensors"), fs::path("../../blobs/sha256abc"));
  EXPECT_TRUE(fs::exists(repo / "blobs/cfgetag1"));
  EXPECT_TRUE(fs::exists(repo / "blobs/tokeetag"));
  EXPECT_FALSE(fs::exists(repo / "snapshots" / kSha / "README.md"));
  EXPECT_FALSE(fs::exists(repo / "snapshots" / kSha / "pytorch_model.bin"));  // safetensors preferred
  for (const auto& e : fs::directory_iterator(repo / "blobs"))
    EXPECT_EQ(e.path().extension(), "") << "leftover " << e.path();
  EXPECT_FALSE(missing_auth_);
  auto cfg = LoadModelConfig(*path);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto src = OpenCheckpoint(*path, LoadFormat::kAuto);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->Get("w")->At(7), 0.5f);

  int resolves = CountResolves();
  ASSERT_TRUE(ResolveModelPath("org/tiny", opts_).ok());
  EXPECT_EQ(CountResolves(), resolves);  // everything cached: only the API call again

  HubOptions offline = opts_;
  offline.offline = true;
  offline.endpoint = "http://127.0.0.1:1";
  EXPECT_EQ(*ResolveModelPath("org/tiny", offline), *path);
  Status s = ResolveModelPath("org/other", offline).status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("HF_HUB_OFFLINE"), std::string::npos) << s.ToString();
  // Hub unreachable: the cached snapshot is used.
  HubOptions down = opts_;
  down.endpoint = "http://127.0.0.1:1";
  EXPECT_EQ(*ResolveModelPath("org/tiny", down), *path);
  EXPECT_EQ(ResolveModelPath("org/other", down).status().code(), StatusCode::kNotFound);
}

TEST_F(HubTest, ErrorsNameTheRepo) {
  Status s = ResolveModelPath("org/missing", opts_).status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("org/missing"), std::string::npos) << s.ToString();
  HubOptions anon = opts_;
  anon.token.clear();
  s = ResolveModelPath("org/private", anon).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("HF_TOKEN"), std::string::npos) << s.ToString();
  EXPECT_EQ(ResolveModelPath("a/b/c", opts_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*ResolveModelPath(dir_.string(), opts_), dir_.string());  // local dirs as they are
}

TEST_F(HubTest, ShardsComeFromTheIndex) {
  auto path = ResolveModelPath("org/sharded", opts_);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_TRUE(FileExists(JoinPath(*path, "model-00001-of-00001.safetensors")));
  EXPECT_FALSE(FileExists(JoinPath(*path, "model-extra.safetensors")));  // not in weight_map
  for (const auto& r : server_->requests()) EXPECT_EQ(r.path.find("model-extra"), std::string::npos);
  auto src = OpenCheckpoint(*path, LoadFormat::kAuto);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_TRUE((*src)->Has("w"));
}

TEST_F(HubTest, InterruptedDownloadResumes) {
  cut_next_blob_ = true;
  Status s = ResolveModelPath("org/tiny", opts_).status();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("model.safetensors"), std::string::npos) << s.ToString();
  auto path = ResolveModelPath("org/tiny", opts_);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_TRUE(saw_range_);
  EXPECT_EQ(*ReadFileToString(JoinPath(*path, "model.safetensors")), weights_);
}

TEST(HubUnitTest, RepoIdsAndFileSelection) {
  EXPECT_TRUE(IsRepoId("meta-llama/Llama-3.2-1B"));
  EXPECT_TRUE(IsRepoId("gpt2"));
  EXPECT_FALSE(IsRepoId("/abs/path"));
  EXPECT_FALSE(IsRepoId("a/b/c"));
  EXPECT_FALSE(IsRepoId("org/../x"));
  EXPECT_FALSE(IsRepoId("org/na--me"));
  EXPECT_EQ(RepoCacheDir("/c", "org/name"), "/c/models--org--name");
  std::vector<std::string> sib = {"config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json",
                                  "pytorch_model.bin", "tokenizer.model", "original/consolidated.pth"};
  auto st = SelectRepoFiles(sib, LoadFormat::kAuto);
  EXPECT_EQ(st, (std::vector<std::string>{"config.json", "tokenizer.model", "model-00001-of-00002.safetensors",
                                          "model.safetensors.index.json"}));
  EXPECT_EQ(SelectRepoFiles(sib, LoadFormat::kPt).back(), "pytorch_model.bin");
  EXPECT_EQ(SelectRepoFiles(sib, LoadFormat::kDummy).size(), 2u);
  EXPECT_EQ(SelectRepoFiles({"pytorch_model.bin", "config.json"}, LoadFormat::kAuto).size(), 2u);
  auto mistral = SelectRepoFiles({"consolidated.safetensors", "model-00001-of-00001.safetensors", "params.json"},
                                 LoadFormat::kAuto);
  EXPECT_EQ(mistral, std::vector<std::string>{"model-00001-of-00001.safetensors"});
  EXPECT_EQ(SelectRepoFiles({"consolidated.safetensors"}, LoadFormat::kAuto).size(), 1u);
}

TEST(HubUnitTest, OptionsFromEnv) {
  setenv("HF_HOME", "/tmp/hfhome_test", 1);
  setenv("HF_TOKEN", "tok", 1);
  setenv("HF_ENDPOINT", "http://mirror.local/", 1);
  setenv("HF_HUB_OFFLINE", "1", 1);
  unsetenv("HF_HUB_CACHE");
  unsetenv("HUGGINGFACE_HUB_CACHE");
  HubOptions o = HubOptions::FromEnv();
  EXPECT_EQ(o.cache_dir, "/tmp/hfhome_test/hub");
  EXPECT_EQ(o.token, "tok");
  EXPECT_EQ(o.endpoint, "http://mirror.local");
  EXPECT_TRUE(o.offline);
  EXPECT_EQ(o.revision, "main");
  setenv("HF_HUB_CACHE", "/tmp/hubcache", 1);
  EXPECT_EQ(HubOptions::FromEnv().cache_dir, "/tmp/hubcache");
  for (const char* v : {"HF_HOME", "HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_HUB_CACHE"}) unsetenv(v);
}

}  // namespace
}  // namespace pagellm

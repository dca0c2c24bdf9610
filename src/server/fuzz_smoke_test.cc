// Fuzz smoke: thousands of seeded random and mutated request bodies through the parsers
// (LLVMFuzzerTestOneInput) and a few hundred through a live server.
#include <random>

#include <gtest/gtest.h>

#include "server/testing/server_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace pagellm::server::testing {
namespace {

const char* kSeeds[] = {
    R"({"prompt":"hi","max_tokens":5,"temperature":0.7,"stop":["a"],"logprobs":2,"n":2})",
    R"({"prompt":[1,2,3],"stream":true,"stream_options":{"include_usage":true},"echo":true})",
    R"({"prompt":[[1,2],[3]],"logit_bias":{"1":5},"seed":3,"min_tokens":1,"top_k":5})",
    R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":2,"max_completion_tokens":4})",
    R"({"messages":[{"role":"system","content":[{"type":"text","text":"s"}]},{"role":"user","content":"u"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto"})",
    R"({"tokens":[1,2,3]})",
    R"({"messages":[{"role":"assistant","content":"a"}],"add_generation_prompt":false,"continue_final_message":true})",
};

// Random JSON values of any type, nested a little.
Json RandomValue(std::mt19937& rng, int depth) {
  switch (rng() % (depth > 2 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<int64_t>(rng()) - (1ll << 31);
    case 3: return std::ldexp(static_cast<double>(rng()) - 2e9, static_cast<int>(rng() % 2000) - 1000);
    case 4: return std::string(rng() % 8, static_cast<char>(rng() % 256));
    case 5: return static_cast<uint64_t>(rng()) << 33;
    case 6: {
      Json a = Json::array();
      for (int i = rng() % 4; i > 0; --i) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (int i = rng() % 4; i > 0; --i) o[std::to_string(rng() % 5)] = RandomValue(rng, depth + 1);
      return o;
    }
  }
}

std::string Mutate(std::mt19937& rng) {
  Json j = Json::parse(kSeeds[rng() % std::size(kSeeds)]);
  if (rng() % 2 == 0) {  // structural: retype or add fields
    static const char* kKeys[] = {"prompt", "messages", "max_tokens", "n", "stop", "logprobs",
                                  "temperature", "stream", "stream_options", "logit_bias",
                                  "tools", "top_logprobs", "best_of", "echo", "tokens", "seed",
                                  "truncate_prompt_tokens", "prompt_logprobs", "min_tokens"};
    for (int k = 1 + rng() % 3; k > 0; --k) j[kKeys[rng() % std::size(kKeys)]] = RandomValue(rng, 0);
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  std::string s = j.dump();  // byte-level: flips, cuts, insertions
  for (int k = 1 + rng() % 4; k > 0 && !s.empty(); --k) {
    size_t at = rng() % s.size();
    switch (rng() % 3) {
      case 0: s[at] = static_cast<char>(rng() % 256); break;
      case 1: s.erase(at, 1 + rng() % 4); break;
      default: s.insert(at, std::string(1 + rng() % 3, "{}[]\",:0e-"[rng() % 10]));
    }
  }
  return s;
}

TEST(FuzzSmokeTest, ParsersSurviveMutations) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 5000; ++i) {
    std::string body = Mutate(rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  }
  for (int i = 0; i < 1000; ++i) {  // pure noise
    std::string body(rng() % 64, '\0');
    for (auto& c : body) c = static_cast<char>(rng() % 256);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  }
}

TEST(FuzzSmokeTest, LiveServerSurvivesMutations) {
  ServerSetup setup;
  setup.engine.max_model_len = 256;
  TestServer server(setup);
  std::mt19937 rng(777);
  const char* kTargets[] = {"/v1/completions", "/v1/chat/completions", "/tokenize",
                            "/detokenize", "/generate"};
  TestConnection conn(server.port());
  for (int i = 0; i < 400; ++i) {
    std::string body = Mutate(rng);
    auto r = conn.Send("POST", kTargets[i % std::size(kTargets)], body);
    EXPECT_TRUE(r.status == 200 || r.status == 400 || r.status == 404) << r.status << " " << body;
    if (r.status != 200) {
      Json e = r.json();
      EXPECT_TRUE(e.is_object() && e.contains("error")) << r.body;
    }
  }
  EXPECT_EQ(Fetch(server.port(), "GET", "/health").status, 200);
}

}  // namespace
}  // namespace pagellm::server::testing

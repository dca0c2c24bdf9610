// Smoke-runs the fuzz target over a few thousand seeded inputs: the snippet corpus, the real
// templates (when the npm packages are present) and random mutations/splices of them, for a
// few seconds. Catches crashes, hangs and exceptions without needing libFuzzer.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "tokenizer/jinja/fuzz_target.h"
#include "tokenizer/jinja/test_util.h"

namespace pagellm::jinja {
namespace {

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  auto cases = testing::LoadOracleCases();
  if (cases.ok()) {
    for (const auto& c : *cases) seeds.push_back(c["template"].get<std::string>());
  }
  for (const auto& t : testing::LoadRealTemplates(testing::NpmDir())) seeds.push_back(t.source);
  seeds.push_back("{% for m in messages %}{{ m.role }}{% endfor %}");
  return seeds;
}

std::string Mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  static const char* kTokens[] = {"{{",
                                  "}}",
                                  "{%",
                                  "%}",
                                  "{#",
                                  "#}",
                                  "-",
                                  "+",
                                  "(",
                                  ")",
                                  "[",
                                  "]",
                                  "{",
                                  "}",
                                  "'",
                                  "\"",
                                  "\\",
                                  "|",
                                  ".",
                                  ",",
                                  ":",
                                  " if ",
                                  " for ",
                                  " in ",
                                  " endfor ",
                                  " endif ",
                                  " set ",
                                  "loop.",
                                  "messages",
                                  "namespace(",
                                  "range(99999)",
                                  "**",
                                  "~",
                                  "\n",
                                  "\xff",
                                  "\xc3",
                                  "raw",
                                  "macro",
                                  "caller()",
                                  "tojson"};
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  std::string s = seeds[pick(seeds.size())];
  int edits = 1 + static_cast<int>(pick(8));
  for (int e = 0; e < edits; ++e) {
    size_t pos = pick(s.size() + 1);
    switch (pick(5)) {
      case 0:
        s.insert(pos, kTokens[pick(std::size(kTokens))]);
        break;
      case 1:
        s.erase(pos, pick(32));
        break;
      case 2:
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
        break;
      case 3:
        s.insert(pos, s.substr(pick(s.size() + 1), pick(64)));
        break;
      default: {
        const std::string& other = seeds[pick(seeds.size())];
        s = s.substr(0, pos) + other.substr(pick(other.size() + 1));
      }
    }
  }
  return s;
}

TEST(JinjaFuzzSmoke, SeededMutationsNeverCrash) {
  std::vector<std::string> seeds = Seeds();
  for (const std::string& s : seeds) {
    FuzzTemplateOnce(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::mt19937_64 rng(20261125);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  int runs = 0;
  for (; runs < 4000 && std::chrono::steady_clock::now() < deadline; ++runs) {
    std::string s = Mutate(seeds, rng);
    FuzzTemplateOnce(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  EXPECT_GT(runs, 100);
}

}  // namespace
}  // namespace pagellm::jinja

// Drives a libFuzzer entry point without libFuzzer (so gcc builds and CI exercise it): feeds
// random and mutated inputs from a seeded RNG for a bounded time / number of iterations.
// Seeds: the hand-made tokenizer.json documents, the tokenizer corpus and a few JSON snippets.
// Usage: <binary> [--seconds S] [--iterations N] [--seed R]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tokenizer/test_util.h"
#include "tokenizer/tiny_tokenizers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::string> Seeds() {
  std::vector<std::string> s;
  // Weight the structured seeds: most of the corpus lines are not JSON.
  for (int k = 0; k < 10; ++k) {
    for (auto& j : pagellm::tokenizer::tiny::All()) s.push_back(j);
  }
  for (auto& line : pagellm::tokenizer::testing::ReadCorpus()) s.push_back(line);
  s.push_back(R"({"bos_token": {"content": "<s>"}, "add_bos_token": true,
                 "chat_template": [{"name": "default", "template": "{{ x }}"}],
                 "model_max_length": 1e30, "eos_token": "</s>"})");
  s.push_back("");
  return s;
}

const char* kTokens[] = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "1e999", "-1",
                         "\\u0000", "\\ud800", "\xff", "\xC3", "<s>", "\xE2\x96\x81", "\"type\"",
                         "\"BPE\"", "\"Regex\"", "(?", "\\p{", "\xF0\x9F\x98\x80", " ", "\n"};

std::string Mutate(std::string s, const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  auto r = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  int rounds = 1 + static_cast<int>(r(4));
  for (int k = 0; k < rounds; ++k) {
    switch (r(7)) {
      case 0: if (!s.empty()) s[r(s.size())] = static_cast<char>(rng()); break;
      case 1: s.insert(r(s.size() + 1), 1, static_cast<char>(rng())); break;
      case 2: if (!s.empty()) { size_t p = r(s.size()); s.erase(p, r(16) + 1); } break;
      case 3: if (!s.empty()) { size_t p = r(s.size()); s.insert(r(s.size() + 1), s.substr(p, r(32) + 1)); } break;
      case 4: { const auto& o = seeds[r(seeds.size())]; s.insert(r(s.size() + 1), o.substr(r(o.size() + 1), r(64))); } break;
      case 5: s.resize(r(s.size() + 1)); break;
      default: s.insert(r(s.size() + 1), kTokens[r(sizeof(kTokens) / sizeof(kTokens[0]))]);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  long iterations = 5000;
  uint64_t seed = 12345;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (a == "--iterations") iterations = std::atol(argv[i + 1]);
    else if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  std::mt19937_64 rng(seed);
  auto seeds = Seeds();
  auto run = [](const std::string& s) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  for (const auto& s : seeds) run(s);
  auto t0 = std::chrono::steady_clock::now();
  long n = 0;
  for (; n < iterations; ++n) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > seconds) break;
    std::string input;
    if (rng() % 8 == 0) {
      input.resize(rng() % 256);
      for (auto& c : input) c = static_cast<char>(rng());
    } else {
      input = Mutate(seeds[rng() % seeds.size()], seeds, rng);
    }
    run(input);
  }
  std::printf("fuzz smoke: %zu seeds + %ld mutated inputs, no crash\n", seeds.size(), n);
  return 0;
}

// Fuzz smoke driver: runs a target's LLVMFuzzerTestOneInput on its seeds and on seeded random
// mutations of them, so plain gcc CI exercises the parsers on hostile inputs.
// Usage: <binary> [iterations=4000] [max_seconds=5] [rng_seed=1]
//        <binary> --dump-seeds DIR   (writes the seeds as a starting corpus for libFuzzer)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "model/checkpoint_fuzz.h"

namespace {

std::string Mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  std::string s = seeds[rng() % seeds.size()];
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    size_t n = s.size();
    size_t pos = n ? rng() % n : 0;
    switch (rng() % 8) {
      case 0: if (n) s[pos] ^= static_cast<char>(1u << (rng() % 8)); break;
      case 1: if (n) s[pos] = static_cast<char>(rng()); break;
      case 2: s.insert(pos, 1, static_cast<char>(rng())); break;
      case 3: if (n) s.erase(pos, 1 + rng() % std::min<size_t>(n - pos, 16)); break;
      case 4: s.resize(pos); break;  // truncation
      case 5: {  // splice with another seed
        const std::string& o = seeds[rng() % seeds.size()];
        if (!o.empty()) s = s.substr(0, pos) + o.substr(rng() % o.size());
        break;
      }
      case 6: {  // "interesting" little-endian integers over 1-8 bytes
        static const uint64_t kVals[] = {0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xffffffff,
                                         0xffffffffffffffffull, 0x8000000000000000ull, 1ull << 27};
        uint64_t v = kVals[rng() % 10];
        for (size_t k = 0; k < 8 && pos + k < n; ++k) s[pos + k] = static_cast<char>(v >> (8 * k));
        break;
      }
      case 7: if (n) s.insert(pos, s.substr(pos, 1 + rng() % std::min<size_t>(n - pos, 32))); break;
    }
  }
  return s;
}

void Run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--dump-seeds") {
    std::vector<std::string> seeds = pagellm::fuzz::Seeds();
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::string path = std::string(argv[2]) + "/seed" + std::to_string(i);
      FILE* f = std::fopen(path.c_str(), "wb");
      if (f == nullptr) return 1;
      std::fwrite(seeds[i].data(), 1, seeds[i].size(), f);
      std::fclose(f);
    }
    return 0;
  }
  long iterations = argc > 1 ? std::atol(argv[1]) : 4000;
  double max_seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
  std::mt19937_64 rng(argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1);
  std::vector<std::string> seeds = pagellm::fuzz::Seeds();
  seeds.push_back("");
  for (const auto& s : seeds) Run(s);
  auto start = std::chrono::steady_clock::now();
  long i = 0;
  for (; i < iterations; ++i) {
    Run(Mutate(seeds, rng));
    std::chrono::duration<double> el = std::chrono::steady_clock::now() - start;
    if (el.count() > max_seconds) break;
  }
  std::printf("fuzz smoke: %zu seeds, %ld mutated inputs, no crash\n", seeds.size(), i);
  return 0;
}

// Single-threaded tokenizer throughput on the tokenizer corpus (compare with the HF numbers
// that tools/fixtures/tokenizer/gen_expected.py records as "hf_encode_timing").
// Usage: tokenizer_bench [--corpus FILE] [--seconds S] DIR...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/file.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Same cases as gen_expected.py: one per line (\n and \\ escapes) plus the whole document.
std::vector<std::string> ReadCases(const std::string& path) {
  auto text = pagellm::ReadFileToString(path);
  std::vector<std::string> out;
  if (!text.ok()) return out;
  std::string cur;
  for (size_t i = 0; i < text->size(); ++i) {
    char c = (*text)[i];
    if (c == '\n') {
      out.push_back(cur);
      cur.clear();
    } else if (c == '\\' && i + 1 < text->size() && ((*text)[i + 1] == 'n' || (*text)[i + 1] == '\\')) {
      cur += (*text)[++i] == 'n' ? '\n' : '\\';
    } else {
      cur += c;
    }
  }
  std::string doc;
  for (size_t i = 0; i < out.size(); ++i) doc += (i ? "\n" : "") + out[i];
  out.push_back(doc);
  return out;
}

void Bench(const std::string& dir, const std::vector<std::string>& cases, double seconds) {
  auto t0 = Clock::now();
  auto tok = pagellm::tokenizer::Tokenizer::Load(dir);
  if (!tok.ok()) {
    std::printf("%-40s load failed: %s\n", dir.c_str(), tok.status().ToString().c_str());
    return;
  }
  double load_s = Since(t0);
  // First pass: cold word caches (what a server sees on novel text).
  size_t cold_bytes = 0;
  t0 = Clock::now();
  for (const auto& c : cases) {
    if (!(*tok)->Encode(c, false).ok()) std::abort();
    cold_bytes += c.size();
  }
  double cold_s = Since(t0);
  size_t bytes = 0, tokens = 0, reps = 0;
  std::vector<std::vector<int32_t>> all;
  t0 = Clock::now();
  double dt;
  do {
    for (const auto& c : cases) {
      auto ids = (*tok)->Encode(c, false);
      if (!ids.ok()) std::abort();
      bytes += c.size();
      tokens += ids->size();
      if (reps == 0) all.push_back(std::move(ids).value());
    }
    ++reps;
  } while ((dt = Since(t0)) < seconds);
  size_t dec_tokens = 0;
  auto t1 = Clock::now();
  double dt2;
  do {
    for (const auto& ids : all) {
      (*tok)->Decode(ids);
      dec_tokens += ids.size();
    }
  } while ((dt2 = Since(t1)) < seconds / 2);
  std::printf("%-32s load %5.2fs  encode cold %6.2f MB/s, warm %6.2f MB/s %9.0f tok/s  "
              "decode %9.0f tok/s (%zu reps)\n",
              dir.c_str(), load_s, cold_bytes / cold_s / 1e6, bytes / dt / 1e6, tokens / dt,
              dec_tokens / dt2, reps);
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = std::string(PAGELLM_SOURCE_DIR) + "/tests/data/tokenizer/corpus.txt";
  double seconds = 2.0;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--corpus" && i + 1 < argc) corpus = argv[++i];
    else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else dirs.push_back(a);
  }
  auto cases = ReadCases(corpus);
  if (cases.size() <= 1 || dirs.empty()) {
    std::fprintf(stderr, "usage: tokenizer_bench [--corpus FILE] [--seconds S] DIR...\n");
    return 2;
  }
  std::printf("corpus: %zu cases; single-threaded\n", cases.size());
  for (const auto& d : dirs) Bench(d, cases, seconds);
  return 0;
}

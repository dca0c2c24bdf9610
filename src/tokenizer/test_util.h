// Test-only helpers: locating test data and reading the tokenizer corpus.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/file.h"
#include "tokenizer/tokenizer.h"

namespace pagellm::tokenizer::testing {

inline std::string TestDataDir() {
  const char* d = std::getenv("PAGELLM_TEST_DATA");
  return d ? d : std::string(PAGELLM_SOURCE_DIR) + "/tests/data";
}

inline std::string SharedDir() {
  const char* d = std::getenv("PAGELLM_SHARED");
  return d ? d : std::string(PAGELLM_SOURCE_DIR) + "/../shared";
}

// tests/data/npm/<name> (fetched by scripts/fetch_test_data.sh); empty if absent.
inline std::string NpmTokenizerDir(const std::string& name) {
  std::string d = TestDataDir() + "/npm/" + name;
  return IsDirectory(d) ? d : "";
}

// Loads a tokenizer directory once per test binary (loading big vocabularies takes a while).
// Returns nullptr if the directory is missing or fails to load (the failure is printed).
inline const Tokenizer* CachedTokenizer(const std::string& dir) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  if (dir.empty()) return nullptr;
  auto it = cache.find(dir);
  if (it == cache.end()) {
    auto t = Tokenizer::Load(dir);
    if (!t.ok()) std::fprintf(stderr, "load %s: %s\n", dir.c_str(), t.status().ToString().c_str());
    it = cache.emplace(dir, t.ok() ? std::move(t).value() : nullptr).first;
  }
  return it->second.get();
}

inline std::string Llama2SentencePieceDir() {
  std::string d = SharedDir() + "/data/tokenizers/llama2-sentencepiece";
  return FileExists(d + "/tokenizer.model") ? d : "";
}

inline const std::vector<std::string>& NpmTokenizerNames() {
  static const std::vector<std::string> k = {"llama2", "llama3", "qwen3", "gemma3",
                                             "gpt4o", "deepseek_v3", "gpt2"};
  return k;
}

// One case per line; "\\" and "\n" escapes (so cases can hold newlines).
inline std::vector<std::string> ReadCorpus() {
  auto text = ReadFileToString(TestDataDir() + "/tokenizer/corpus.txt");
  std::vector<std::string> out;
  if (!text.ok()) return out;
  std::string cur;
  const std::string& s = *text;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      out.push_back(cur);
      cur.clear();
    } else if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == '\\')) {
      cur += s[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      cur += s[i];
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace pagellm::tokenizer::testing

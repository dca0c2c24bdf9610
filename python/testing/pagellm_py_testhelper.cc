// Test helper for the Python tests (not installed):
//   pagellm_py_testhelper make-tiny DIR
//       writes the tiny Llama fixture (engine/testing/tiny_model) into DIR.
//   pagellm_py_testhelper generate DIR MAX_TOKENS "1 2 3" "4 5" ...
//       runs greedy (ignore_eos) generation on token-id prompts straight through the C++ LLM with
//       the engine arguments python/tests/conftest.py uses, printing one line "OUT id id ..."
//       per prompt; the Python API must produce the same ids.
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "engine/llm.h"
#include "engine/testing/tiny_model.h"

namespace {

namespace fs = std::filesystem;

int MakeTiny(const std::string& dir) {
  pagellm::testing::TinyModel m = pagellm::testing::MakeTinyLlama("pytest");
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& f : fs::directory_iterator(m.dir)) {
    fs::copy_file(f.path(), fs::path(dir) / f.path().filename(), fs::copy_options::overwrite_existing, ec);
    if (ec) {
      std::fprintf(stderr, "copy failed: %s\n", ec.message().c_str());
      return 1;
    }
  }
  fs::remove_all(m.dir, ec);
  std::printf("TINY %d %lld\n", m.eos_id, static_cast<long long>(m.vocab_size));
  return 0;
}

int Generate(const std::string& dir, int max_tokens, const std::vector<std::string>& prompts) {
  pagellm::EngineArgs a;  // keep in sync with TINY_ARGS in python/tests/conftest.py
  a.model = dir;
  a.device = "cpu";
  a.load_format = "dummy";
  a.dtype = "float32";
  a.num_gpu_blocks_override = 256;
  a.kv_cache_memory = int64_t{64} << 20;
  a.max_num_seqs = 32;
  a.max_num_batched_tokens = 256;
  auto llm = pagellm::LLM::Create(a);
  if (!llm.ok()) {
    std::fprintf(stderr, "%s\n", llm.status().ToString().c_str());
    return 1;
  }
  std::vector<pagellm::PromptInput> inputs;
  for (const std::string& p : prompts) {
    std::istringstream in(p);
    std::vector<int32_t> ids;
    for (int32_t id; in >> id;) ids.push_back(id);
    inputs.push_back(pagellm::PromptInput::Ids(ids));
  }
  pagellm::SamplingParams sp;
  sp.temperature = 0;
  sp.ignore_eos = true;
  sp.max_tokens = max_tokens;
  auto outs = (*llm)->Generate(inputs, {sp});
  if (!outs.ok()) {
    std::fprintf(stderr, "%s\n", outs.status().ToString().c_str());
    return 1;
  }
  for (const auto& o : *outs) {
    std::printf("OUT");  // the engine logs to stdout too
    for (int32_t id : o.outputs.at(0).token_ids) std::printf(" %d", id);
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "make-tiny") return MakeTiny(args[1]);
  if (args.size() >= 3 && args[0] == "generate") {
    return Generate(args[1], std::stoi(args[2]), std::vector<std::string>(args.begin() + 3, args.end()));
  }
  std::fprintf(stderr, "usage: pagellm_py_testhelper make-tiny DIR | generate DIR MAX_TOKENS IDS...\n");
  return 2;
}

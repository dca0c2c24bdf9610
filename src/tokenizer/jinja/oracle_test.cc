// Live oracle: renders templates with python jinja2 (configured like transformers, see
// tools/fixtures/jinja/render_oracle.py) and with our interpreter, and compares byte for byte.
// Skips when /usr/bin/python3 with jinja2 is missing; real templates need the npm packages.
#include <gtest/gtest.h>

#include "tokenizer/jinja/template.h"
#include "tokenizer/jinja/test_util.h"

namespace pagellm::jinja {
namespace {

using testing::LoadJsonFile;
using testing::RunOracle;
using testing::TestDataDir;

// Checks our result against the oracle's: equal output, or both failing (and, for the
// template's own raise_exception, with the same message).
void ExpectSame(const std::string& name, const StatusOr<std::string>& mine,
                const nlohmann::ordered_json& want) {
  if (want.value("ok", false)) {
    ASSERT_TRUE(mine.ok()) << name << ": we failed with " << mine.status().ToString()
                           << "\njinja2 rendered:\n"
                           << want["output"].get<std::string>();
    EXPECT_EQ(*mine, want["output"].get<std::string>()) << name;
    return;
  }
  std::string err = want.value("error", "");
  EXPECT_FALSE(mine.ok()) << name << ": jinja2 failed with " << err << "\nwe rendered:\n"
                          << (mine.ok() ? *mine : "");
  const std::string kRaised = "TemplateError: ";
  if (!mine.ok() && err.rfind(kRaised, 0) == 0) {
    EXPECT_EQ(mine.status().message(), err.substr(kRaised.size())) << name;
  }
}

StatusOr<std::string> RenderSnippet(const nlohmann::ordered_json& c) {
  ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::Parse(c["template"].get<std::string>()));
  return t.Render(c.value("context", nlohmann::ordered_json::object()));
}

TEST(JinjaOracle, SnippetsMatchJinja2) {
  auto cases = testing::LoadOracleCases();
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  auto results = RunOracle(*cases);
  if (!results.ok()) GTEST_SKIP() << results.status().ToString();
  ASSERT_EQ(results->size(), cases->size());
  for (size_t i = 0; i < cases->size(); ++i) {
    const auto& c = (*cases)[i];
    ExpectSame(c.value("name", std::to_string(i)) + "\n" + c["template"].get<std::string>(),
               RenderSnippet(c), (*results)[i]);
  }
}

TEST(JinjaOracle, RealTemplatesMatchJinja2) {
  auto templates = testing::LoadRealTemplates(testing::NpmDir());
  if (templates.empty()) GTEST_SKIP() << "no npm tokenizer packages (scripts/fetch_test_data.sh)";
  nlohmann::ordered_json cases = nlohmann::ordered_json::array();
  std::vector<std::string> names;
  std::vector<const testing::RealTemplate*> owners;
  for (const auto& t : templates) {
    for (const auto& c : testing::ConversationCases(t.special_tokens)) {
      cases.push_back({{"template", t.source}, {"inputs", c.inputs}});
      names.push_back(t.package + ":" + c.name);
      owners.push_back(&t);
    }
  }
  auto results = RunOracle(cases);
  if (!results.ok()) GTEST_SKIP() << results.status().ToString();
  ASSERT_EQ(results->size(), cases.size());
  int compared = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    auto tmpl = ChatTemplate::Parse(owners[i]->source);
    ASSERT_TRUE(tmpl.ok()) << names[i] << ": " << tmpl.status().ToString();
    auto mine = ApplyChatTemplate(*tmpl, testing::InputsFromJson(cases[i]["inputs"]));
    ExpectSame(names[i], mine, (*results)[i]);
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace pagellm::jinja

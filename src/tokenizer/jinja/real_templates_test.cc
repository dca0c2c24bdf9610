// Real chat templates (from the npm tokenizer packages in tests/data/npm) against renderings
// recorded with transformers' apply_chat_template (tools/fixtures/jinja/gen_expected.py,
// committed in tests/data/jinja/expected/). Skips what is absent.
#include <gtest/gtest.h>

#include <filesystem>

#include "tokenizer/jinja/template.h"
#include "tokenizer/jinja/test_util.h"

namespace pagellm::jinja {
namespace {

std::string Fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

TEST(RealTemplates, ParseAndRenderEveryConversation) {
  auto templates = testing::LoadRealTemplates(testing::NpmDir());
  if (templates.empty()) GTEST_SKIP() << "no npm tokenizer packages (scripts/fetch_test_data.sh)";
  for (const auto& t : templates) {
    auto tmpl = ChatTemplate::Parse(t.source);
    ASSERT_TRUE(tmpl.ok()) << t.package << ": " << tmpl.status().ToString();
    int rendered = 0;
    for (const auto& c : testing::ConversationCases(t.special_tokens)) {
      auto r = ApplyChatTemplate(*tmpl, testing::InputsFromJson(c.inputs));
      if (r.ok()) ++rendered;
    }
    EXPECT_GT(rendered, 0) << t.package;
  }
}

TEST(RealTemplates, MatchTransformersRecordings) {
  namespace fs = std::filesystem;
  std::string dir = testing::TestDataDir() + "/jinja/expected";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) GTEST_SKIP() << "no recordings in " << dir;
  auto templates = testing::LoadRealTemplates(testing::NpmDir());
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    auto rec = testing::LoadJsonFile(entry.path().string());
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    std::string package = rec->value("package", "");
    const testing::RealTemplate* src = nullptr;
    for (const auto& t : templates) {
      if (t.package == package) src = &t;
    }
    if (src == nullptr || Fnv1a64(src->source) != rec->value("template_fnv1a64", "")) {
      continue;  // package absent, or a different version of its template
    }
    auto tmpl = ChatTemplate::Parse(src->source);
    ASSERT_TRUE(tmpl.ok()) << package << ": " << tmpl.status().ToString();
    for (const auto& c : (*rec)["cases"]) {
      std::string name = package + ":" + c.value("name", "?");
      auto mine = ApplyChatTemplate(*tmpl, testing::InputsFromJson(c["inputs"]));
      if (c.value("ok", false)) {
        ASSERT_TRUE(mine.ok()) << name << ": " << mine.status().ToString();
        EXPECT_EQ(*mine, c["output"].get<std::string>()) << name;
      } else {
        EXPECT_FALSE(mine.ok()) << name << ": transformers failed with " << c["error"];
      }
      ++compared;
    }
  }
  if (compared == 0) GTEST_SKIP() << "recordings present but no matching npm templates";
}

}  // namespace
}  // namespace pagellm::jinja

#include "tokenizer/jinja/template.h"

#include <gtest/gtest.h>

namespace pagellm::jinja {
namespace {

TEST(ChatTemplate, Smoke) {
  auto t = ChatTemplate::Parse("Hello {{ name }}!");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto r = t->Render({{"name", "world"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "Hello world!");
}

}  // namespace
}  // namespace pagellm::jinja

#include "tokenizer/jinja/template.h"

#include <gtest/gtest.h>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/test_util.h"

namespace pagellm::jinja {
namespace {

using nlohmann::ordered_json;

StatusOr<std::string> Render(const std::string& src, const ordered_json& ctx) {
  ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::Parse(src));
  return t.Render(ctx);
}

struct Case {
  const char* tmpl;
  const char* context;  // JSON object
  const char* want;
};

// Expected strings are what jinja2 3.1 (configured like transformers) renders.
const Case kCases[] = {
    {"Hello {{ name }}!", R"({"name": "world"})", "Hello world!"},
    {"{{ 1 }}|{{ 1.0 }}|{{ 1e-7 }}|{{ none }}|{{ true }}|{{ x }}", "{}", "1|1.0|1e-07|None|True|"},
    {"{{ [1, 'a', 2.5, none, {'k': \"it's\"}] }}", "{}", "[1, 'a', 2.5, None, {'k': \"it's\"}]"},
    {"{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 10 / 5 }}", "{}",
     "3 -4 2 1024 3.5 2.0"},
    {"{{ 'a' ~ 1 ~ none ~ u }}", "{}", "a1None"},
    {"{{ xs[::-1] }} {{ xs[1:] }} {{ 'héllo'[1:3] }}", R"({"xs": [1, 2, 3]})",
     "[3, 2, 1] [2, 3] él"},
    {"{% for x in xs %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}",
     R"({"xs": ["a", "b"]})", "1a,2b"},
    {"{% for x in xs %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}", R"({"xs": [1, 2]})",
     "-2;1-;"},
    {"{% for x in [] %}x{% else %}empty{% endfor %}", "{}", "empty"},
    {"{% for i in range(10) %}{% if i is odd %}{% continue %}{% endif %}{% if i > 6 %}{% break %}"
     "{% endif %}{{ i }}{% endfor %}",
     "{}", "0246"},
    {"{% set x = 1 %}{% for i in [5] %}{% set x = i %}{{ x }}{% endfor %}{{ x }}", "{}", "51"},
    {"{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}"
     "{{ ns.n }}",
     "{}", "6"},
    {"{% set b %}in {{ 1 + 1 }}{% endset %}[{{ b }}]", "{}", "[in 2]"},
    {"{% macro m(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}", "{}", "1B23"},
    {"{% raw %}{{ x }}{% endraw %}", "{}", "{{ x }}"},
    {"  {% if true %}\n  x\n  {% endif %}\ny", "{}", "  x\ny"},
    {"a  {%- if true -%}  b  {%- endif %}", "{}", "ab"},
    {"a\n{# note #}\nb\n", "{}", "a\nb"},
    {"{{ m.content | trim }}|{{ m.missing }}|{{ m.missing is defined }}",
     R"({"m": {"content": "  hi "}})", "hi||False"},
    {"{{ d | tojson }}", R"({"d": {"b": [1, 2.0, null], "a": "é\n"}})",
     R"({"b": [1, 2.0, null], "a": "é\n"})"},
    {"{{ d | tojson(indent=2) }}", R"({"d": {"a": [1]}})", "{\n  \"a\": [\n    1\n  ]\n}"},
    {"{{ xs | selectattr('r', 'equalto', 'u') | map(attribute='c') | join(',') }}",
     R"({"xs": [{"r": "u", "c": "1"}, {"r": "a", "c": "2"}, {"r": "u", "c": "3"}]})", "1,3"},
    {"{{ xs | length }} {{ xs | first }} {{ xs | last }} {{ xs | sort | list }} {{ xs | sum }}",
     R"({"xs": [3, 1, 2]})", "3 3 2 [1, 2, 3] 6"},
    {"{{ u | default('d') }} {{ '' | default('e', true) }}", "{}", "d e"},
    {"{{ 'a,b'.split(',') }} {{ ' x '.strip() }} {{ 'ab'.startswith('a') }} {{ 'ab'.upper() }}",
     "{}", "['a', 'b'] x True AB"},
    {"{{ 'x</think>y'.split('</think>')[-1].lstrip('\\n') }}", "{}", "y"},
    {"{{ d.items() | list }} {{ d.get('z', 0) }} {{ d.keys() | list }}", R"({"d": {"a": 1}})",
     "[('a', 1)] 0 ['a']"},
    {"{{ 1 is number }}{{ 'a' is string }}{{ d is mapping }}{{ none is none }}{{ 3 is divisibleby "
     "3 }}",
     R"({"d": {}})", "TrueTrueTrueTrueTrue"},
    {"{{ 'y' if a else 'n' }}{{ 'z' if not a }}", R"({"a": false})", "nz"},
    {"{{ 'hello world' | title }} {{ 'hELLO' | capitalize }}", "{}", "Hello World Hello"},
    {"{{ 2.5 | round }} {{ 3.7 | int }} {{ '4' | int + 1 }} {{ 2 | float }}", "{}", "2.0 3 5 2.0"},
    {"{% generation %}g{% endgeneration %}", "{}", "g"},
};

TEST(ChatTemplate, Table) {
  for (const Case& c : kCases) {
    auto r = Render(c.tmpl, ordered_json::parse(c.context));
    ASSERT_TRUE(r.ok()) << c.tmpl << ": " << r.status().ToString();
    EXPECT_EQ(*r, c.want) << c.tmpl;
  }
}

// The generated corpus: every snippet in tests/data/jinja/oracle_cases.json against the
// output jinja2 produced for it (tools/fixtures/jinja/make_oracle_cases.py --expected).
TEST(ChatTemplate, SnippetCorpusMatchesRecordedJinja2) {
  auto cases = testing::LoadOracleCases();
  auto expected = testing::LoadJsonFile(testing::TestDataDir() + "/jinja/snippets_expected.json");
  ASSERT_TRUE(cases.ok() && expected.ok());
  ASSERT_EQ(cases->size(), expected->size());
  for (size_t i = 0; i < cases->size(); ++i) {
    const auto& c = (*cases)[i];
    const auto& want = (*expected)[i];
    std::string name = c["name"].get<std::string>();
    auto r = Render(c["template"].get<std::string>(), c["context"]);
    if (want["ok"].get<bool>()) {
      ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
      EXPECT_EQ(*r, want["output"].get<std::string>()) << name;
    } else {
      EXPECT_FALSE(r.ok()) << name << " should fail like jinja2: " << want["error"];
    }
  }
}

TEST(ChatTemplate, SyntaxErrorsCarryLineAndColumn) {
  auto t = ChatTemplate::Parse("line one\n{% if x %}\n{{ 1 + }}\n{% endif %}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("line 3"), std::string::npos) << t.status().message();
  EXPECT_FALSE(ChatTemplate::Parse("{% if x %}").ok());
  EXPECT_FALSE(ChatTemplate::Parse("{{ 'abc }}").ok());
  EXPECT_FALSE(ChatTemplate::Parse("{% endfor %}").ok());
}

TEST(ChatTemplate, RaiseExceptionMessageIsVerbatim) {
  auto r = Render("{{ raise_exception('Only user and assistant roles are supported!') }}", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "Only user and assistant roles are supported!");
}

TEST(ChatTemplate, RuntimeErrorsAreStatuses) {
  EXPECT_FALSE(Render("{{ x.y }}", {}).ok());
  EXPECT_FALSE(Render("{{ 1 / 0 }}", {}).ok());
  EXPECT_FALSE(Render("{{ u | tojson }}", {}).ok());
  EXPECT_FALSE(Render("{{ 'a' + 1 }}", {}).ok());
  EXPECT_FALSE(Render("{{ 9223372036854775807 + 1 }}", {}).ok());
  EXPECT_FALSE(Render("{% for x in 3 %}{% endfor %}", {}).ok());
  // Found by fuzzing: non-integer arguments where integers are expected.
  EXPECT_FALSE(Render("{{ [1, 2]|batch(u, 0)|list }}", {}).ok());
  EXPECT_FALSE(Render("{{ 'a b'.split(' ', 'x') }}", {}).ok());
  EXPECT_FALSE(Render("{{ '{99999999999999999999}'.format(1) }}", {}).ok());
  EXPECT_TRUE(Render("{{ (-9223372036854775807 - 1) is divisibleby(-1) }}", {}).ok());
  EXPECT_TRUE(Render("{{ '%d' % 1e300 }}{{ 'x'|indent(100000000000) }}", {}).ok());
}

TEST(ChatTemplate, LimitsStopHostileTemplates) {
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_steps = 200000;
  auto t1 = ChatTemplate::Parse(
      "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}");
  ASSERT_TRUE(t1.ok());
  auto r1 = t1->Render(ordered_json::object(), limits);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::kResourceExhausted);

  auto t2 = ChatTemplate::Parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->Render(ordered_json::object()).status().code(), StatusCode::kResourceExhausted);

  auto t3 = ChatTemplate::Parse(
      "{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
      "{% endfor %}{{ ns.s }}");
  ASSERT_TRUE(t3.ok());
  EXPECT_EQ(t3->Render(ordered_json::object(), limits).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_FALSE(Render("{{ 'x' * 100000000000 }}", {}).ok());

  std::string deep(5000, '(');
  EXPECT_FALSE(ChatTemplate::Parse("{{ " + deep + " }}").ok());
  std::string chain;
  for (int i = 0; i < 5000; ++i) chain += "1 + ";
  EXPECT_FALSE(ChatTemplate::Parse("{{ " + chain + "1 }}").ok());
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "{% if true %}";
  EXPECT_FALSE(ChatTemplate::Parse(nested).ok());
}

TEST(ApplyChatTemplate, BuildsTransformersContext) {
  auto t = ChatTemplate::Parse(
      "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
      "{% if add_generation_prompt %}<assistant>{% endif %}|{{ tools is none }}|"
      "{{ documents is none }}|{{ pad_token is defined }}|{{ foo }}");
  ASSERT_TRUE(t.ok());
  ChatTemplateInputs in;
  in.messages = ordered_json::parse(R"([{"role": "user", "content": "hi"}])");
  in.add_generation_prompt = true;
  in.special_tokens = {{"bos_token", "<s>"}, {"pad_token", nullptr}};
  in.extra = {{"foo", "bar"}};
  auto r = ApplyChatTemplate(*t, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "<s><user>hi<assistant>|True|True|False|bar");
}

TEST(ApplyChatTemplate, ContinueFinalMessage) {
  auto t = ChatTemplate::Parse(
      "{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}</s>{% endfor %}");
  ASSERT_TRUE(t.ok());
  ChatTemplateInputs in;
  in.messages = ordered_json::parse(
      R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Once upon "}])");
  in.continue_final_message = true;
  auto r = ApplyChatTemplate(*t, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "<user>hi</s><assistant>Once upon");
  in.add_generation_prompt = true;
  EXPECT_FALSE(ApplyChatTemplate(*t, in).ok());
}

TEST(ChatTemplate, ParsedTemplateIsReusable) {
  auto t = ChatTemplate::Parse("{% set x = n * 2 %}{{ x }}");
  ASSERT_TRUE(t.ok());
  ChatTemplate copy = *t;
  EXPECT_EQ(*copy.Render({{"n", 2}}), "4");
  EXPECT_EQ(*t->Render({{"n", 5}}), "10");
  EXPECT_FALSE(t->Render(ordered_json::array()).ok());
}

}  // namespace
}  // namespace pagellm::jinja

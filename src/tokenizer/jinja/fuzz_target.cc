#include "tokenizer/jinja/fuzz_target.h"

#include <string_view>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/template.h"

namespace pagellm::jinja {

void FuzzTemplateOnce(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json* context = [] {
    auto* c = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"({
      "messages": [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yo", "tool_calls": [
          {"function": {"name": "f", "arguments": {"a": [1, 2.5, null, true]}}}]},
        {"role": "user", "content": [{"type": "text", "text": "t"}, {"type": "image"}]}
      ],
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
      "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"
    })"));
    return c;
  }();
  std::string_view src(reinterpret_cast<const char*>(data), size);
  auto tmpl = ChatTemplate::Parse(src);
  if (!tmpl.ok()) return;
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_steps = 100000;
  limits.max_depth = 300;
  (void)tmpl->Render(*context, limits);
}

}  // namespace pagellm::jinja

// Chat templates: a Jinja2 interpreter that renders Hugging Face chat templates exactly as
// transformers' apply_chat_template does (jinja2 ImmutableSandboxedEnvironment with
// trim_blocks, lstrip_blocks, loopcontrols; tojson/raise_exception/strftime_now).
// Thread-safety: a parsed ChatTemplate is immutable; Render may run concurrently.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pagellm::jinja {

struct Node;
struct RenderLimits;

class ChatTemplate {
 public:
  // Syntax errors come back as InvalidArgument with "line L, column C".
  static StatusOr<ChatTemplate> Parse(std::string_view source);

  // Renders with `context` (a JSON object) as the template's variables. Errors raised by the
  // template's raise_exception(msg) come back as InvalidArgument with exactly `msg`; other
  // runtime errors as InvalidArgument "line L: ..."; exceeding limits as ResourceExhausted.
  StatusOr<std::string> Render(const nlohmann::ordered_json& context) const;
  StatusOr<std::string> Render(const nlohmann::ordered_json& context,
                               const RenderLimits& limits) const;

 private:
  struct Impl;
  explicit ChatTemplate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

struct ChatTemplateInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  bool add_generation_prompt = false;
  // Ends the output right after the last message's content so generation continues it.
  bool continue_final_message = false;
  nlohmann::ordered_json tools;      // null: no tools (the template sees None)
  nlohmann::ordered_json documents;  // null: no documents (the template sees None)
  // bos_token, eos_token, unk_token, pad_token, ...: null entries are left out, like
  // transformers' special_tokens_map.
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();
  // Extra template variables (chat_template_kwargs), overriding special tokens.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

// Builds transformers' context (messages, tools, documents, add_generation_prompt, special
// tokens, extra kwargs) and renders.
StatusOr<std::string> ApplyChatTemplate(const ChatTemplate& tmpl, const ChatTemplateInputs& in);

}  // namespace pagellm::jinja

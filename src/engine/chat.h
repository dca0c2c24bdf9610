// Chat prompts: renders a conversation with the model's chat template (tokenizer_config.json)
// or an override (--chat-template: a file path or the template text), the way transformers'
// apply_chat_template does, with the tokenizer's special tokens in the context.
// Thread-safety: ChatRenderer is immutable after Create; Render may run concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/tokenizer.h"

namespace pagellm {

struct ChatOptions {
  bool add_generation_prompt = true;
  bool continue_final_message = false;
  nlohmann::ordered_json tools;      // null or array
  nlohmann::ordered_json documents;  // null or array
  nlohmann::ordered_json chat_template_kwargs = nlohmann::ordered_json::object();
  std::optional<std::string> chat_template;  // per-call override (text or path)
};

class ChatRenderer {
 public:
  // `override_template`: --chat-template (a path to a file or the template itself).
  // Without a template anywhere, Render fails with a clear message (vLLM does the same).
  static StatusOr<std::unique_ptr<ChatRenderer>> Create(const tokenizer::Tokenizer& tok,
                                                        const std::optional<std::string>& override_template);
  StatusOr<std::string> Render(const nlohmann::ordered_json& messages, const ChatOptions& options) const;

 private:
  ChatRenderer() = default;
  std::optional<jinja::ChatTemplate> template_;
  nlohmann::ordered_json special_tokens_ = nlohmann::ordered_json::object();
};

// Reads `spec` as a file when one exists at that path, else takes it as template text.
std::string LoadTemplateText(const std::string& spec);

}  // namespace pagellm

#include "engine/chat.h"

#include "base/file.h"

namespace pagellm {

std::string LoadTemplateText(const std::string& spec) {
  if (spec.size() < 4096 && FileExists(spec) && !IsDirectory(spec)) {
    auto text = ReadFileToString(spec);
    if (text.ok()) return *text;
  }
  return spec;
}

StatusOr<std::unique_ptr<ChatRenderer>> ChatRenderer::Create(
    const tokenizer::Tokenizer& tok, const std::optional<std::string>& override_template) {
  std::unique_ptr<ChatRenderer> r(new ChatRenderer());
  std::optional<std::string> source;
  if (override_template) {
    source = LoadTemplateText(*override_template);
  } else {
    source = tok.ChatTemplate();
  }
  if (source) {
    auto parsed = jinja::ChatTemplate::Parse(*source);
    if (!parsed.ok()) return parsed.status().WithContext("chat template");
    r->template_ = std::move(parsed).value();
  }
  const tokenizer::TokenizerConfig& c = tok.config();
  auto put = [&](const char* key, const std::optional<std::string>& v) {
    if (v) r->special_tokens_[key] = *v;
  };
  put("bos_token", c.bos_token);
  put("eos_token", c.eos_token);
  put("unk_token", c.unk_token);
  put("pad_token", c.pad_token);
  return r;
}

StatusOr<std::string> ChatRenderer::Render(const nlohmann::ordered_json& messages,
                                           const ChatOptions& options) const {
  std::optional<jinja::ChatTemplate> per_call;
  const jinja::ChatTemplate* tmpl = template_ ? &*template_ : nullptr;
  if (options.chat_template) {
    auto parsed = jinja::ChatTemplate::Parse(LoadTemplateText(*options.chat_template));
    if (!parsed.ok()) return parsed.status().WithContext("chat_template");
    per_call = std::move(parsed).value();
    tmpl = &*per_call;
  }
  if (!tmpl) {
    return InvalidArgumentError(
        "this model's tokenizer has no chat template: pass one with --chat-template "
        "(or chat_template in the request)");
  }
  jinja::ChatTemplateInputs in;
  in.messages = messages;
  in.add_generation_prompt = options.add_generation_prompt;
  in.continue_final_message = options.continue_final_message;
  in.tools = options.tools;
  in.documents = options.documents;
  in.special_tokens = special_tokens_;
  in.extra = options.chat_template_kwargs;
  return jinja::ApplyChatTemplate(*tmpl, in);
}

}  // namespace pagellm

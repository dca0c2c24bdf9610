#include "tokenizer/jinja/template.h"

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/strings.h"

namespace pagellm::jinja {

struct ChatTemplate::Impl {
  Body body;
};

StatusOr<ChatTemplate> ChatTemplate::Parse(std::string_view source) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source));
  auto impl = std::make_shared<Impl>();
  ASSIGN_OR_RETURN(impl->body, ParseTemplate(tokens));
  return ChatTemplate(std::move(impl));
}

StatusOr<std::string> ChatTemplate::Render(const nlohmann::ordered_json& context) const {
  return Render(context, RenderLimits{});
}

StatusOr<std::string> ChatTemplate::Render(const nlohmann::ordered_json& context,
                                           const RenderLimits& limits) const {
  if (!context.is_object() && !context.is_null()) {
    return InvalidArgumentError("chat template context must be a JSON object");
  }
  Interpreter interp(limits);
  for (auto it = context.begin(); context.is_object() && it != context.end(); ++it) {
    interp.SetRoot(it.key(), Value::FromJson(it.value()));
  }
  std::string out;
  Status st = interp.Render(impl_->body, &out);
  if (IsTemplateRaised(st)) return InvalidArgumentError(st.message());
  if (!st.ok()) return Status(st.code(), "chat template: " + st.message());
  return out;
}

namespace {

// transformers' continue_final_message: cut the rendering right after the final message's
// text so the model continues it instead of starting a new turn.
StatusOr<std::string> TrimToFinalMessage(std::string rendered,
                                         const nlohmann::ordered_json& messages) {
  if (!messages.is_array() || messages.empty() || !messages.back().is_object()) {
    return InvalidArgumentError("continue_final_message needs a final message");
  }
  const auto& content = messages.back().value("content", nlohmann::ordered_json());
  std::string final_text;
  if (content.is_string()) {
    final_text = content.get<std::string>();
  } else if (content.is_array()) {
    bool found = false;
    for (auto it = content.rbegin(); it != content.rend() && !found; ++it) {
      if (it->is_object() && it->contains("text") && (*it)["text"].is_string()) {
        final_text = (*it)["text"].get<std::string>();
        found = true;
      }
    }
    if (!found) {
      return InvalidArgumentError(
          "continue_final_message is set but we could not find any text to continue in the "
          "final message!");
    }
  } else {
    return InvalidArgumentError("continue_final_message: final message has no text content");
  }
  std::string stripped = StrStrip(final_text, std::nullopt, true, true);
  std::string lstripped = StrStrip(final_text, std::nullopt, true, false);
  size_t loc = rendered.rfind(stripped);
  if (loc == std::string::npos) {
    return InvalidArgumentError(
        "continue_final_message is set but the final message does not appear in the chat "
        "after applying the chat template!");
  }
  if (rendered.compare(loc, lstripped.size(), final_text) == 0) {
    rendered.resize(loc + lstripped.size());
  } else {
    rendered.resize(loc + stripped.size());
  }
  return rendered;
}

}  // namespace

StatusOr<std::string> ApplyChatTemplate(const ChatTemplate& tmpl, const ChatTemplateInputs& in) {
  if (in.continue_final_message && in.add_generation_prompt) {
    return InvalidArgumentError(
        "continue_final_message and add_generation_prompt are not compatible. Use "
        "continue_final_message when you want the model to continue the final message, and "
        "add_generation_prompt when you want to add a header that will prompt it to start a "
        "new assistant message instead.");
  }
  auto ctx = nlohmann::ordered_json::object();
  if (in.special_tokens.is_object()) {
    for (auto it = in.special_tokens.begin(); it != in.special_tokens.end(); ++it) {
      if (!it.value().is_null()) ctx[it.key()] = it.value();
    }
  }
  if (in.extra.is_object()) {
    for (auto it = in.extra.begin(); it != in.extra.end(); ++it) ctx[it.key()] = it.value();
  }
  ctx["messages"] = in.messages;
  ctx["tools"] = in.tools;
  ctx["documents"] = in.documents;
  ctx["add_generation_prompt"] = in.add_generation_prompt;
  ASSIGN_OR_RETURN(std::string rendered, tmpl.Render(ctx));
  if (!in.continue_final_message) return rendered;
  return TrimToFinalMessage(std::move(rendered), in.messages);
}

}  // namespace pagellm::jinja

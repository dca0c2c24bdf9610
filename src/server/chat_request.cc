// /v1/chat/completions request parsing.
#include <limits>

#include "server/protocol.h"

namespace pagellm::server {
namespace {

// Content as a string: plain strings pass; lists of {"type":"text","text":...} parts are
// joined with "\n" (vLLM's "string" content format). Other part types are not supported.
Status FlattenContent(const Json& content, size_t i, Json* out) {
  if (content.is_string() || content.is_null()) {
    *out = content;
    return OkStatus();
  }
  std::string where = "messages[" + std::to_string(i) + "].content";
  if (!content.is_array()) {
    return InvalidArgumentError("'" + where + "' must be a string or a list of content parts");
  }
  std::string text;
  bool first = true;
  for (const Json& part : content) {
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      return InvalidArgumentError("'" + where + "' parts must be objects with a 'type'");
    }
    const std::string type = part["type"].get<std::string>();
    if (type != "text" && type != "input_text") {
      return InvalidArgumentError("content part type '" + type + "' is not supported");
    }
    if (!part.contains("text") || !part["text"].is_string()) {
      return InvalidArgumentError("'" + where + "' text parts need a string 'text'");
    }
    if (!first) text += "\n";
    text += part["text"].get<std::string>();
    first = false;
  }
  *out = text;
  return OkStatus();
}

Status ParseTools(const Json& o, ChatTemplateRequest* chat) {
  if (Present(o, "tools")) {
    const Json& tools = o.at("tools");
    if (!tools.is_array()) return InvalidArgumentError("'tools' must be a list");
    for (const Json& t : tools) {
      if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) {
        return InvalidArgumentError("each tool must be an object with a 'function' object");
      }
    }
    chat->tools = tools;
  }
  if (Present(o, "tool_choice")) {
    const Json& tc = o.at("tool_choice");
    if (tc.is_string()) {
      std::string s = tc.get<std::string>();
      if (s != "none" && s != "auto" && s != "required") {
        return InvalidArgumentError("'tool_choice' must be 'none', 'auto', 'required' or an object");
      }
    } else if (!tc.is_object()) {
      return InvalidArgumentError("'tool_choice' must be a string or an object");
    }
    chat->tool_choice = tc;
  }
  return OkStatus();
}

}  // namespace

Status NormalizeMessages(const Json& messages, Json* out) {
  if (!messages.is_array() || messages.empty()) {
    return InvalidArgumentError("'messages' must be a non-empty list");
  }
  *out = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    if (!m.is_object()) return InvalidArgumentError("each message must be an object");
    if (!m.contains("role") || !m["role"].is_string()) {
      return InvalidArgumentError("messages[" + std::to_string(i) + "].role must be a string");
    }
    std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" &&
        role != "developer" && role != "function") {
      return InvalidArgumentError("unknown message role '" + role + "'");
    }
    Json msg = m;
    Json content;
    RETURN_IF_ERROR(FlattenContent(m.contains("content") ? m["content"] : Json(), i, &content));
    msg["content"] = content;
    out->push_back(std::move(msg));
  }
  return OkStatus();
}

StatusOr<ChatRequest> ParseChatRequest(const Json& o, int max_logprobs) {
  ChatRequest r;
  if (!Present(o, "messages")) return InvalidArgumentError("'messages' is required");
  RETURN_IF_ERROR(NormalizeMessages(o.at("messages"), &r.chat.messages));
  RETURN_IF_ERROR(ParseCommonFields(o, max_logprobs, &r.common));
  RETURN_IF_ERROR(GetOptInt(o, "max_completion_tokens", 1, std::numeric_limits<int>::max(),
                            &r.common.max_tokens));
  RETURN_IF_ERROR(GetBool(o, "logprobs", &r.logprobs));
  RETURN_IF_ERROR(GetOptInt(o, "top_logprobs", 0, max_logprobs, &r.top_logprobs));
  if (r.top_logprobs && !r.logprobs) {
    return InvalidArgumentError("when using `top_logprobs`, `logprobs` must be set to true");
  }
  if (r.logprobs) r.common.sampling.logprobs = r.top_logprobs.value_or(0);
  RETURN_IF_ERROR(GetBool(o, "add_generation_prompt", &r.chat.add_generation_prompt));
  RETURN_IF_ERROR(GetBool(o, "continue_final_message", &r.chat.continue_final_message));
  if (r.chat.add_generation_prompt && r.chat.continue_final_message) {
    return InvalidArgumentError(
        "Cannot set both `continue_final_message` and `add_generation_prompt` to True.");
  }
  RETURN_IF_ERROR(GetOptString(o, "chat_template", &r.chat.chat_template));
  if (Present(o, "chat_template_kwargs")) {
    if (!o.at("chat_template_kwargs").is_object()) {
      return InvalidArgumentError("'chat_template_kwargs' must be an object");
    }
    r.chat.chat_template_kwargs = o.at("chat_template_kwargs");
  }
  RETURN_IF_ERROR(ParseTools(o, &r.chat));
  if (Present(o, "response_format")) {
    const Json& rf = o.at("response_format");
    if (!rf.is_object()) return InvalidArgumentError("'response_format' must be an object");
    if (rf.value("type", std::string("text")) != "text") {
      return InvalidArgumentError("structured output (response_format) is not supported");
    }
  }
  return r;
}

}  // namespace pagellm::server

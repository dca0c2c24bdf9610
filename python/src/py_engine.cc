#include "python/src/py_engine.h"

#include <atomic>
#include <exception>

#include <nlohmann/json.hpp>

#include "python/src/py_status.h"
#include "python/src/sigint_guard.h"

namespace pagellm::python {
namespace {

std::vector<PromptInput> ToInputs(const std::vector<PyPrompt>& prompts) {
  std::vector<PromptInput> inputs;
  inputs.reserve(prompts.size());
  for (const PyPrompt& p : prompts) {
    if (const auto* text = std::get_if<std::string>(&p)) {
      inputs.push_back(PromptInput::Text(*text));
    } else {
      inputs.push_back(PromptInput::Ids(std::get<std::vector<int32_t>>(p)));
    }
  }
  return inputs;
}

// Parses JSON text from the Python layer (json.dumps output); "" means null.
nlohmann::ordered_json ParseJson(const std::string& text, const char* what) {
  if (text.empty()) return nullptr;
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    ThrowStatus(InvalidArgumentError(std::string(what) + " is not valid JSON: " + e.what()));
  }
}

[[noreturn]] void RaiseKeyboardInterrupt() {
  PyErr_SetNone(PyExc_KeyboardInterrupt);
  throw py::error_already_set();
}

}  // namespace

PyEngine::PyEngine(const EngineArgs& args) {
  StatusOr<std::unique_ptr<LLM>> llm = InternalError("LLM::Create did not run");
  {
    py::gil_scoped_release release;
    llm = LLM::Create(args);
  }
  llm_ = ValueOrThrow(std::move(llm));
}

const tokenizer::Tokenizer& PyEngine::tok() const {
  const tokenizer::Tokenizer* t = engine().tokenizer();
  if (!t) ThrowStatus(InvalidArgumentError("the engine has no tokenizer (skip_tokenizer_init=True)"));
  return *t;
}

py::list PyEngine::Generate(const std::vector<PyPrompt>& prompts, const std::vector<SamplingParams>& params,
                            const py::object& progress) {
  std::vector<PromptInput> inputs = ToInputs(prompts);
  std::atomic<bool> cancel{false};
  // An exception from the Python callback stops generation and is re-raised afterwards; it
  // must never unwind through the engine.
  std::exception_ptr callback_error;
  GenerateOptions options;
  options.cancel = &cancel;
  if (!progress.is_none()) {
    options.progress = [&](size_t done, size_t total) {
      py::gil_scoped_acquire acquire;
      try {
        progress(done, total);
      } catch (...) {
        if (!callback_error) callback_error = std::current_exception();
        cancel.store(true);
      }
    };
  }
  StatusOr<std::vector<RequestOutput>> result = InternalError("generate did not run");
  bool interrupted = false;
  {
    SigintGuard guard(&cancel);
    py::gil_scoped_release release;
    result = llm_->Generate(inputs, params, options);
    interrupted = guard.interrupted();
  }
  if (callback_error) std::rethrow_exception(callback_error);
  if (interrupted) RaiseKeyboardInterrupt();
  std::vector<RequestOutput> outs = ValueOrThrow(std::move(result));
  for (const RequestOutput& o : outs) {
    if (o.error) ThrowStatus(InternalError("request " + o.request_id + " failed: " + *o.error));
  }
  return OutputsToPython(outs, params, engine().tokenizer());
}

py::list PyEngine::BeamSearch(const std::vector<PyPrompt>& prompts, const BeamSearchParams& params) {
  std::vector<PromptInput> inputs = ToInputs(prompts);
  StatusOr<std::vector<BeamSearchOutput>> result = InternalError("beam search did not run");
  {
    py::gil_scoped_release release;
    result = llm_->BeamSearch(inputs, params);
  }
  py::list out;
  for (const BeamSearchOutput& b : ValueOrThrow(std::move(result))) {
    py::list seqs;
    for (const BeamSearchOutput::Sequence& s : b.sequences) {
      py::dict d;
      d["tokens"] = py::cast(s.tokens);
      d["logprobs"] = py::cast(s.logprobs);
      d["cum_logprob"] = s.cum_logprob;
      d["score"] = s.score;
      d["text"] = py::reinterpret_steal<py::object>(
          PyUnicode_DecodeUTF8(s.text.data(), static_cast<Py_ssize_t>(s.text.size()), "replace"));
      seqs.append(d);
    }
    out.append(seqs);
  }
  return out;
}

std::string PyEngine::RenderChat(const std::string& messages_json, bool add_generation_prompt,
                                 bool continue_final_message, const std::string& tools_json,
                                 const std::string& kwargs_json,
                                 const std::optional<std::string>& chat_template) {
  if (!chat_) chat_ = ValueOrThrow(ChatRenderer::Create(tok(), engine().args().chat_template));
  ChatOptions options;
  options.add_generation_prompt = add_generation_prompt;
  options.continue_final_message = continue_final_message;
  options.tools = ParseJson(tools_json, "tools");
  nlohmann::ordered_json kwargs = ParseJson(kwargs_json, "chat_template_kwargs");
  if (kwargs.is_object()) options.chat_template_kwargs = std::move(kwargs);
  options.chat_template = chat_template;
  return ValueOrThrow(chat_->Render(ParseJson(messages_json, "messages"), options));
}

std::vector<int32_t> PyEngine::Encode(const std::string& text, bool add_special_tokens) const {
  return ValueOrThrow(tok().Encode(text, add_special_tokens));
}

std::string PyEngine::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                             bool spaces_between_special_tokens) const {
  tokenizer::DecodeOptions options;
  options.skip_special_tokens = skip_special_tokens;
  options.spaces_between_special_tokens = spaces_between_special_tokens;
  return tok().Decode(ids, options);
}

std::optional<int32_t> PyEngine::bos_token_id() const { return tok().bos_id(); }

py::dict PyEngine::Stats() const {
  EngineStats s = engine().GetStats();
  py::dict d;
  d["num_running"] = s.num_running;
  d["num_waiting"] = s.num_waiting;
  d["kv_cache_usage"] = s.kv_cache_usage;
  d["num_free_blocks"] = s.num_free_blocks;
  d["num_total_blocks"] = s.num_total_blocks;
  d["prefix_cache_queries"] = s.prefix_cache_queries;
  d["prefix_cache_hits"] = s.prefix_cache_hits;
  d["prompt_tokens"] = s.prompt_tokens;
  d["generation_tokens"] = s.generation_tokens;
  return d;
}

}  // namespace pagellm::python

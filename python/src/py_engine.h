// PyEngine: the C++ side of pagellm.LLM. Owns an LLM, converts its results to plain Python
// values (dicts, lists, tuples) that the pure-Python layer (pagellm/outputs.py) wraps in
// vLLM-shaped classes. Runs the engine with the GIL released and Ctrl-C wired to cancel.
// Thread-safety: one call at a time (like LLM); the Python layer serializes with a lock.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "engine/chat.h"
#include "engine/llm.h"

namespace pagellm::python {

namespace py = pybind11;

using PyPrompt = std::variant<std::string, std::vector<int32_t>>;

class PyEngine {
 public:
  explicit PyEngine(const EngineArgs& args);

  // Returns a list of dicts (see ToPython in py_outputs.cc). `progress(done, total)` may be None.
  py::list Generate(const std::vector<PyPrompt>& prompts, const std::vector<SamplingParams>& params,
                    const py::object& progress);
  // Returns per prompt a list of dicts {tokens, logprobs, cum_logprob, score, text}.
  py::list BeamSearch(const std::vector<PyPrompt>& prompts, const BeamSearchParams& params);
  SamplingParams DefaultSamplingParams() const { return llm_->GetDefaultSamplingParams(); }

  // Chat rendering with ChatRenderer; JSON arguments arrive as JSON text from Python.
  std::string RenderChat(const std::string& messages_json, bool add_generation_prompt,
                         bool continue_final_message, const std::string& tools_json,
                         const std::string& kwargs_json, const std::optional<std::string>& chat_template);

  // Tokenizer access (ValueError when the engine runs with skip_tokenizer_init).
  std::vector<int32_t> Encode(const std::string& text, bool add_special_tokens) const;
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                     bool spaces_between_special_tokens) const;
  bool has_tokenizer() const { return engine().tokenizer() != nullptr; }
  std::optional<int32_t> eos_token_id() const { return engine().eos_token_id(); }
  std::optional<int32_t> bos_token_id() const;
  int64_t tokenizer_vocab_size() const { return tok().VocabSize(); }
  std::optional<std::string> IdToToken(int32_t id) const { return tok().IdToToken(id); }
  int64_t max_model_len() const { return engine().max_model_len(); }
  int64_t vocab_size() const { return engine().vocab_size(); }
  py::dict Stats() const;

 private:
  const LLMEngine& engine() const { return llm_->engine(); }
  const tokenizer::Tokenizer& tok() const;

  std::unique_ptr<LLM> llm_;
  std::unique_ptr<ChatRenderer> chat_;  // built on first use
};

// Converts finished RequestOutputs (one per prompt) to Python dicts; `params` is one for all or
// one per output (decoded_token is None when detokenize is off or there is no tokenizer).
py::list OutputsToPython(const std::vector<RequestOutput>& outs, const std::vector<SamplingParams>& params,
                         const tokenizer::Tokenizer* tok);

}  // namespace pagellm::python

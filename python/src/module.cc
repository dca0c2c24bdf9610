// _pagellm: the extension module behind the pure-Python package `pagellm` (vLLM's offline API).
// It exposes the C++ value types field by field (EngineArgs, SamplingParams, BeamSearchParams)
// and the engine (PyEngine); the package builds vLLM-shaped objects on top.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "python/src/py_engine.h"
#include "python/src/py_status.h"

namespace pagellm::python {

void ThrowStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kUnimplemented:
      throw py::value_error(s.message());
    case StatusCode::kCancelled:
      PyErr_SetString(PyExc_KeyboardInterrupt, s.message().c_str());
      throw py::error_already_set();
    default:
      throw std::runtime_error(std::string(StatusCodeName(s.code())) + ": " + s.message());
  }
}

namespace {

const char* OutputKindName(RequestOutputKind k) {
  switch (k) {
    case RequestOutputKind::kCumulative: return "cumulative";
    case RequestOutputKind::kDelta: return "delta";
    case RequestOutputKind::kFinalOnly: return "final_only";
  }
  return "?";
}

// Debug hook: every field as the C++ side sees it (tests check the Python → C++ mapping).
py::dict SamplingParamsToDict(const SamplingParams& p) {
  py::dict d;
  d["n"] = p.n;
  d["best_of"] = py::cast(p.best_of);
  d["presence_penalty"] = p.presence_penalty;
  d["frequency_penalty"] = p.frequency_penalty;
  d["repetition_penalty"] = p.repetition_penalty;
  d["temperature"] = p.temperature;
  d["top_p"] = p.top_p;
  d["top_k"] = p.top_k;
  d["min_p"] = p.min_p;
  d["seed"] = py::cast(p.seed);
  d["stop"] = py::cast(p.stop);
  d["stop_token_ids"] = py::cast(p.stop_token_ids);
  d["include_stop_str_in_output"] = p.include_stop_str_in_output;
  d["ignore_eos"] = p.ignore_eos;
  d["max_tokens"] = py::cast(p.max_tokens);
  d["min_tokens"] = p.min_tokens;
  d["logprobs"] = py::cast(p.logprobs);
  d["prompt_logprobs"] = py::cast(p.prompt_logprobs);
  d["logit_bias"] = py::cast(p.logit_bias);
  d["allowed_token_ids"] = py::cast(p.allowed_token_ids);
  d["bad_words"] = py::cast(p.bad_words);
  d["detokenize"] = p.detokenize;
  d["skip_special_tokens"] = p.skip_special_tokens;
  d["spaces_between_special_tokens"] = p.spaces_between_special_tokens;
  d["truncate_prompt_tokens"] = py::cast(p.truncate_prompt_tokens);
  d["output_kind"] = OutputKindName(p.output_kind);
  return d;
}

void BindEngineArgs(py::module_& m) {
  py::class_<EngineArgs>(m, "EngineArgs")
      .def(py::init<>())
      .def_readwrite("model", &EngineArgs::model)
      .def_readwrite("tokenizer", &EngineArgs::tokenizer)
      .def_readwrite("revision", &EngineArgs::revision)
      .def_readwrite("dtype", &EngineArgs::dtype)
      .def_readwrite("device", &EngineArgs::device)
      .def_readwrite("load_format", &EngineArgs::load_format)
      .def_readwrite("max_model_len", &EngineArgs::max_model_len)
      .def_readwrite("block_size", &EngineArgs::block_size)
      .def_readwrite("gpu_memory_utilization", &EngineArgs::gpu_memory_utilization)
      .def_readwrite("kv_cache_memory", &EngineArgs::kv_cache_memory)
      .def_readwrite("num_gpu_blocks_override", &EngineArgs::num_gpu_blocks_override)
      .def_readwrite("max_num_seqs", &EngineArgs::max_num_seqs)
      .def_readwrite("max_num_batched_tokens", &EngineArgs::max_num_batched_tokens)
      .def_readwrite("enable_prefix_caching", &EngineArgs::enable_prefix_caching)
      .def_readwrite("enable_chunked_prefill", &EngineArgs::enable_chunked_prefill)
      .def_readwrite("scheduling_policy", &EngineArgs::scheduling_policy)
      .def_readwrite("seed", &EngineArgs::seed)
      .def_readwrite("skip_tokenizer_init", &EngineArgs::skip_tokenizer_init)
      .def_readwrite("generation_config", &EngineArgs::generation_config)
      .def_readwrite("tensor_parallel_size", &EngineArgs::tensor_parallel_size)
      .def_readwrite("max_logprobs", &EngineArgs::max_logprobs)
      .def_readwrite("enforce_eager", &EngineArgs::enforce_eager)
      .def_readwrite("async_scheduling", &EngineArgs::async_scheduling)
      .def_readwrite("batch_invariant", &EngineArgs::batch_invariant)
      .def_readwrite("chat_template", &EngineArgs::chat_template);
}

void BindSamplingParams(py::module_& m) {
  py::class_<SamplingParams>(m, "_SamplingParams")
      .def(py::init<>())
      .def_readwrite("n", &SamplingParams::n)
      .def_readwrite("best_of", &SamplingParams::best_of)
      .def_readwrite("presence_penalty", &SamplingParams::presence_penalty)
      .def_readwrite("frequency_penalty", &SamplingParams::frequency_penalty)
      .def_readwrite("repetition_penalty", &SamplingParams::repetition_penalty)
      .def_readwrite("temperature", &SamplingParams::temperature)
      .def_readwrite("top_p", &SamplingParams::top_p)
      .def_readwrite("top_k", &SamplingParams::top_k)
      .def_readwrite("min_p", &SamplingParams::min_p)
      .def_readwrite("seed", &SamplingParams::seed)
      .def_readwrite("stop", &SamplingParams::stop)
      .def_readwrite("stop_token_ids", &SamplingParams::stop_token_ids)
      .def_readwrite("include_stop_str_in_output", &SamplingParams::include_stop_str_in_output)
      .def_readwrite("ignore_eos", &SamplingParams::ignore_eos)
      .def_readwrite("max_tokens", &SamplingParams::max_tokens)
      .def_readwrite("min_tokens", &SamplingParams::min_tokens)
      .def_readwrite("logprobs", &SamplingParams::logprobs)
      .def_readwrite("prompt_logprobs", &SamplingParams::prompt_logprobs)
      .def_readwrite("logit_bias", &SamplingParams::logit_bias)
      .def_readwrite("allowed_token_ids", &SamplingParams::allowed_token_ids)
      .def_readwrite("bad_words", &SamplingParams::bad_words)
      .def_readwrite("detokenize", &SamplingParams::detokenize)
      .def_readwrite("skip_special_tokens", &SamplingParams::skip_special_tokens)
      .def_readwrite("spaces_between_special_tokens", &SamplingParams::spaces_between_special_tokens)
      .def_readwrite("truncate_prompt_tokens", &SamplingParams::truncate_prompt_tokens)
      .def("finalize", [](SamplingParams& p) { ThrowIfError(p.Finalize()); },
           "Normalizes and validates like vLLM's __post_init__ (ValueError on bad values).");
  m.def("_sampling_params_to_dict", &SamplingParamsToDict);

  py::class_<BeamSearchParams>(m, "_BeamSearchParams")
      .def(py::init<>())
      .def_readwrite("beam_width", &BeamSearchParams::beam_width)
      .def_readwrite("max_tokens", &BeamSearchParams::max_tokens)
      .def_readwrite("ignore_eos", &BeamSearchParams::ignore_eos)
      .def_readwrite("temperature", &BeamSearchParams::temperature)
      .def_readwrite("length_penalty", &BeamSearchParams::length_penalty)
      .def_readwrite("include_stop_str_in_output", &BeamSearchParams::include_stop_str_in_output)
      .def("validate", [](const BeamSearchParams& p) { ThrowIfError(p.Validate()); });
}

void BindEngine(py::module_& m) {
  py::class_<PyEngine>(m, "Engine")
      .def(py::init<const EngineArgs&>(), py::arg("args"))
      .def("generate", &PyEngine::Generate, py::arg("prompts"), py::arg("params"),
           py::arg("progress") = py::none())
      .def("beam_search", &PyEngine::BeamSearch, py::arg("prompts"), py::arg("params"))
      .def("default_sampling_params", &PyEngine::DefaultSamplingParams)
      .def("render_chat", &PyEngine::RenderChat, py::arg("messages_json"),
           py::arg("add_generation_prompt"), py::arg("continue_final_message"),
           py::arg("tools_json"), py::arg("kwargs_json"), py::arg("chat_template"))
      .def("encode", &PyEngine::Encode, py::arg("text"), py::arg("add_special_tokens") = true)
      .def("decode", &PyEngine::Decode, py::arg("ids"), py::arg("skip_special_tokens") = true,
           py::arg("spaces_between_special_tokens") = true)
      .def("id_to_token", &PyEngine::IdToToken)
      .def_property_readonly("has_tokenizer", &PyEngine::has_tokenizer)
      .def_property_readonly("eos_token_id", &PyEngine::eos_token_id)
      .def_property_readonly("bos_token_id", &PyEngine::bos_token_id)
      .def_property_readonly("tokenizer_vocab_size", &PyEngine::tokenizer_vocab_size)
      .def_property_readonly("max_model_len", &PyEngine::max_model_len)
      .def_property_readonly("vocab_size", &PyEngine::vocab_size)
      .def("stats", &PyEngine::Stats);
}

}  // namespace
}  // namespace pagellm::python

PYBIND11_MODULE(_pagellm, m) {
  m.doc() = "pagellm C++ engine bindings (use the `pagellm` package)";
  pagellm::python::BindEngineArgs(m);
  pagellm::python::BindSamplingParams(m);
  pagellm::python::BindEngine(m);
}

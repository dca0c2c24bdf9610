#include <unordered_map>

#include "python/src/py_engine.h"

namespace pagellm::python {
namespace {

// decoded_token strings, decoded once per token id and call (vLLM decodes each id alone).
class TokenStrings {
 public:
  explicit TokenStrings(const tokenizer::Tokenizer* tok) : tok_(tok) {}
  py::object Get(int32_t id, bool detokenize) {
    if (!tok_ || !detokenize) return py::none();
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
    std::vector<int32_t> one{id};
    std::string s = tok_->Decode(one, false);
    py::object v = py::reinterpret_steal<py::object>(
        PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
    cache_.emplace(id, v);
    return v;
  }

 private:
  const tokenizer::Tokenizer* tok_;
  std::unordered_map<int32_t, py::object> cache_;
};

// {token_id: (logprob, rank, decoded_token)}: the sampled token first with its rank, then the
// top-k with ranks 1..k (a repeated id keeps its first position, as in vLLM's dict).
py::dict LogprobDict(const TokenLogprobs& e, TokenStrings& strings, bool detokenize) {
  py::dict d;
  for (size_t i = 0; i < e.token_ids.size() && i < e.logprobs.size(); ++i) {
    int32_t rank = i == 0 ? e.sampled_rank : static_cast<int32_t>(i);
    int32_t id = e.token_ids[i];
    d[py::int_(id)] = py::make_tuple(static_cast<double>(e.logprobs[i]), rank,
                                     strings.Get(id, detokenize));
  }
  return d;
}

py::object StopReasonToPython(const StopReason& r) {
  if (const auto* id = std::get_if<int32_t>(&r)) return py::int_(*id);
  if (const auto* s = std::get_if<std::string>(&r)) return py::str(*s);
  return py::none();
}

py::object Utf8(const std::string& s) {
  return py::reinterpret_steal<py::object>(
      PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
}

py::dict CompletionToPython(const CompletionOutput& c, TokenStrings& strings, bool detokenize) {
  py::dict d;
  d["index"] = c.index;
  d["text"] = Utf8(c.text);
  d["token_ids"] = py::cast(c.token_ids);
  d["cumulative_logprob"] = py::cast(c.cumulative_logprob);
  if (c.logprobs) {
    py::list l;
    for (const TokenLogprobs& e : *c.logprobs) l.append(LogprobDict(e, strings, detokenize));
    d["logprobs"] = l;
  } else {
    d["logprobs"] = py::none();
  }
  d["finish_reason"] = py::cast(c.finish_reason);
  d["stop_reason"] = StopReasonToPython(c.stop_reason);
  return d;
}

}  // namespace

py::list OutputsToPython(const std::vector<RequestOutput>& outs, const std::vector<SamplingParams>& params,
                         const tokenizer::Tokenizer* tok) {
  TokenStrings strings(tok);
  py::list result;
  for (size_t i = 0; i < outs.size(); ++i) {
    const RequestOutput& o = outs[i];
    bool detokenize = params.empty() ? true : params[params.size() == 1 ? 0 : i].detokenize;
    py::dict d;
    d["request_id"] = o.request_id;
    d["prompt"] = o.prompt ? Utf8(*o.prompt) : py::none();
    d["prompt_token_ids"] = py::cast(o.prompt_token_ids);
    if (o.prompt_logprobs) {
      py::list l;
      for (const auto& e : *o.prompt_logprobs) {
        if (e) {
          l.append(LogprobDict(*e, strings, detokenize));
        } else {
          l.append(py::none());
        }
      }
      d["prompt_logprobs"] = l;
    } else {
      d["prompt_logprobs"] = py::none();
    }
    py::list comps;
    for (const CompletionOutput& c : o.outputs) comps.append(CompletionToPython(c, strings, detokenize));
    d["outputs"] = comps;
    d["finished"] = o.finished;
    d["num_cached_tokens"] = o.num_cached_tokens;
    d["error"] = py::cast(o.error);
    result.append(d);
  }
  return result;
}

}  // namespace pagellm::python

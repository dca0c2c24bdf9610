#include "engine/output_processor.h"

#include <algorithm>

#include "sample/stop_checker.h"

namespace pagellm {
namespace {

// Moves `n` back to the start of a UTF-8 character so held-back text never splits one.
size_t Utf8Boundary(const std::string& s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

void OutputProcessor::AddRequest(const std::string& id, std::optional<std::string> prompt,
                                 std::vector<int32_t> prompt_token_ids,
                                 const SamplingParams& params) {
  Parent p;
  p.id = id;
  p.prompt = std::move(prompt);
  p.prompt_token_ids = std::move(prompt_token_ids);
  p.params = params;
  p.children.resize(static_cast<size_t>(std::max(1, params.n)));
  if (tokenizer_ && params.detokenize) {
    tokenizer::DecodeOptions opts;
    opts.skip_special_tokens = params.skip_special_tokens;
    opts.spaces_between_special_tokens = params.spaces_between_special_tokens;
    for (Child& c : p.children) {
      c.detok = std::make_unique<tokenizer::IncrementalDetokenizer>(*tokenizer_, opts,
                                                                    p.prompt_token_ids);
    }
  }
  if (params.prompt_logprobs) p.prompt_logprobs.push_back(std::nullopt);
  requests_[id] = std::move(p);
}

// vLLM checks stop strings only once min_tokens tokens exist.
std::optional<std::string> OutputProcessor::CheckStopStrings(const Parent& p, Child& c,
                                                             size_t new_text_from) {
  if (static_cast<int>(c.token_ids.size()) <= p.params.min_tokens) return std::nullopt;
  auto m = pagellm::CheckStopStrings(c.text, static_cast<int64_t>(c.text.size() - new_text_from),
                                     p.params.stop, p.params.include_stop_str_in_output);
  if (!m) return std::nullopt;
  if (m->truncate_to >= 0) c.text.resize(static_cast<size_t>(m->truncate_to));
  return m->stop_string;
}

void OutputProcessor::Append(Parent& p, Child& c, const EngineCoreOutput& o, Result& result,
                             const std::string& child_id) {
  if (c.finish_reason) return;  // finished by a stop string; late tokens are dropped
  c.changed = true;
  c.token_ids.insert(c.token_ids.end(), o.new_token_ids.begin(), o.new_token_ids.end());
  for (const TokenLogprobs& lp : o.new_logprobs) {
    c.logprobs.push_back(lp);
    if (!lp.logprobs.empty()) c.cumulative_logprob += lp.logprobs[0];
  }
  if (c.detok) {
    std::vector<int32_t> ids = o.new_token_ids;
    // A stop token (EOS or stop_token_ids) is not detokenized unless asked (vLLM).
    bool stop_token = o.finish_reason == FinishReason::kStop &&
                      !std::holds_alternative<std::string>(o.stop_reason);
    if (stop_token && !p.params.include_stop_str_in_output && !ids.empty()) ids.pop_back();
    size_t before = c.text.size();
    c.text += c.detok->Step(ids);
    if (o.finished()) c.text += c.detok->Flush();
    if (auto stop = CheckStopStrings(p, c, before)) {
      c.finish_reason = FinishReason::kStop;
      c.stop_reason = *stop;
      result.stopped_by_string.emplace_back(child_id, *stop);
      return;
    }
  }
  if (o.finish_reason) {
    c.finish_reason = o.finish_reason;
    c.stop_reason = o.stop_reason;
  }
}

size_t OutputProcessor::VisibleTextLength(const Parent& p, const Child& c) const {
  if (c.finish_reason) return c.text.size();
  size_t hold = static_cast<size_t>(std::max<int64_t>(0, StopStringHoldback(p.params)));
  size_t n = c.text.size() > hold ? c.text.size() - hold : 0;
  return Utf8Boundary(c.text, n);
}

RequestOutput OutputProcessor::Build(Parent& p, bool finished) {
  RequestOutput out;
  out.request_id = p.id;
  // A finished request is erased right after its last Build: move its big vectors out.
  if (finished) {
    out.prompt = std::move(p.prompt);
    out.prompt_token_ids = std::move(p.prompt_token_ids);
  } else {
    out.prompt = p.prompt;
    out.prompt_token_ids = p.prompt_token_ids;
  }
  out.finished = finished;
  out.num_cached_tokens = p.num_cached_tokens;
  bool delta = p.params.output_kind == RequestOutputKind::kDelta;
  if (p.params.prompt_logprobs && (!delta || !p.prompt_logprobs_sent)) {
    out.prompt_logprobs = p.prompt_logprobs;
    p.prompt_logprobs_sent = true;
  }
  for (size_t i = 0; i < p.children.size(); ++i) {
    Child& c = p.children[i];
    if (delta && !c.changed && !finished) continue;
    CompletionOutput co;
    co.index = static_cast<int>(i);
    size_t visible = VisibleTextLength(p, c);
    if (delta) {
      size_t from = std::min(c.sent_text, visible);
      co.text = c.text.substr(from, visible - from);
      c.sent_text = std::max(c.sent_text, visible);
      co.token_ids.assign(c.token_ids.begin() + c.sent_tokens, c.token_ids.end());
      c.sent_tokens = c.token_ids.size();
    } else {
      co.text = c.text.substr(0, visible);
      co.token_ids = finished ? std::move(c.token_ids) : c.token_ids;
    }
    if (p.params.logprobs) {
      size_t from = delta ? c.sent_logprobs : 0;
      co.logprobs = std::vector<TokenLogprobs>(c.logprobs.begin() + from, c.logprobs.end());
      c.sent_logprobs = c.logprobs.size();
      co.cumulative_logprob = c.cumulative_logprob;
    }
    if (c.finish_reason) {
      co.finish_reason = std::string(FinishReasonName(*c.finish_reason));
      co.stop_reason = c.stop_reason;
    }
    c.changed = false;
    out.outputs.push_back(std::move(co));
  }
  return out;
}

OutputProcessor::Result OutputProcessor::Process(
    const std::vector<EngineCoreOutput>& outputs,
    const std::map<std::string, std::vector<TokenLogprobs>>& prompt_logprobs) {
  Result result;
  // In first-touch order; Parent::touched dedupes (a linear search here was O(n^2)).
  std::vector<Parent*> touched;
  touched.reserve(outputs.size());
  for (const auto& [child_id, lps] : prompt_logprobs) {
    // Only child 0 of a request computes the prompt: "0_{id}" when n > 1.
    std::string id = requests_.count(child_id) ? child_id : child_id.substr(child_id.find('_') + 1);
    auto it = requests_.find(id);
    if (it == requests_.end()) continue;
    for (const auto& lp : lps) it->second.prompt_logprobs.push_back(lp);
  }
  size_t cursor = 0;  // into last_order_: steps list their requests in the same order
  for (const EngineCoreOutput& o : outputs) {
    const std::string& id = o.parent_request_id.empty() ? o.request_id : o.parent_request_id;
    Parent* found = nullptr;
    if (cursor < last_order_.size() && last_order_[cursor]->id == id) {
      found = last_order_[cursor++];
    } else {
      auto it = requests_.find(id);
      if (it == requests_.end()) continue;
      found = &it->second;
    }
    Parent& p = *found;
    size_t idx = static_cast<size_t>(o.child_index);
    if (idx >= p.children.size()) continue;
    p.num_cached_tokens = std::max(p.num_cached_tokens, o.num_cached_tokens);
    Append(p, p.children[idx], o, result, o.request_id);
    if (!p.touched) {
      p.touched = true;
      touched.push_back(&p);
    }
  }
  last_order_.clear();
  for (Parent* touched_parent : touched) {
    Parent& p = *touched_parent;
    p.touched = false;
    bool finished = std::all_of(p.children.begin(), p.children.end(),
                                [](const Child& c) { return c.finish_reason.has_value(); });
    if (finished) {
      result.outputs.push_back(Build(p, finished));
      requests_.erase(std::string(p.id));  // a copy: the key must outlive the erase
      continue;
    }
    last_order_.push_back(&p);
    if (p.params.output_kind != RequestOutputKind::kFinalOnly)
      result.outputs.push_back(Build(p, finished));
  }
  return result;
}

std::vector<RequestOutput> OutputProcessor::Abort(const std::vector<std::string>& ids,
                                                  std::optional<std::string> error) {
  std::vector<RequestOutput> outs;
  for (const std::string& id : ids) {
    auto it = requests_.find(id);
    if (it == requests_.end()) continue;
    for (Child& c : it->second.children) {
      if (!c.finish_reason) {
        c.finish_reason = FinishReason::kAbort;
        c.changed = true;
      }
    }
    outs.push_back(Build(it->second, true));
    outs.back().error = error;
    last_order_.clear();  // may point at it
    requests_.erase(it);
  }
  return outs;
}

}  // namespace pagellm

namespace pagellm {
std::vector<std::string> OutputProcessor::RequestIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, p] : requests_) ids.push_back(id);
  return ids;
}
}  // namespace pagellm

#include "runner/device_sampler.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "base/phase_timer.h"

#include "ops/ops.h"
#include "runner/sampling_rows.h"

namespace pagellm {
namespace {

StatusOr<Tensor> ToHost(const ExecCtx& ctx, const Tensor& dev) {
  Tensor host = Tensor::EmptyHost(dev.shape(), dev.dtype());
  RETURN_IF_ERROR(ops::Copy(ctx, dev, host));
  return host;
}

}  // namespace

DeviceSampler::DeviceSampler(Device device, uint64_t unseeded_seed)
    : device_(device), unseeded_state_(unseeded_seed) {}

bool DeviceSampler::Supports(const SamplingParams& p) { return DeviceSamplingSupports(p); }

StatusOr<int32_t*> DeviceSampler::SyncHistory(const ExecCtx& ctx, const std::string& id,
                                              const SamplingState& s,
                                              std::vector<int32_t>& appends) {
  const auto [first, second] = HistoryParts(s);
  const int64_t total = static_cast<int64_t>(first.size() + second.size());
  History& h = histories_[id];
  if (h.size > total) h.size = 0;  // the request shrank: it is not the one we knew, rebuild
  const int64_t capacity = h.tokens.defined() ? h.tokens.numel() : 0;
  if (total > capacity) {
    ASSIGN_OR_RETURN(Tensor grown,
                     Tensor::Empty(Shape{std::max<int64_t>(total + total / 2, 64)}, DType::kI32,
                                   device_));
    if (h.size > 0) {
      Tensor dst = grown.Slice(0, 0, h.size);
      RETURN_IF_ERROR(ops::Copy(ctx, h.tokens.Slice(0, 0, h.size), dst));
    }
    h.tokens = std::move(grown);
  }
  for (int64_t i = h.size; i < total; ++i) {
    const int64_t nf = static_cast<int64_t>(first.size());
    appends.push_back(i < nf ? first[i] : second[i - nf]);
  }
  tokens_uploaded_ += total - h.size;
  h.size = static_cast<int32_t>(total);
  return h.tokens.data<int32_t>();
}

StatusOr<SamplerOutput> DeviceSampler::Sample(const ExecCtx& ctx, const Tensor& logits,
                                              std::span<const Row> rows) {
  StatusOr<SamplerOutput> out = SampleImpl(ctx, logits, rows);
  // Histories were marked up to date before the op wrote them: rebuild from the host.
  if (!out.ok()) histories_.clear();
  return out;
}

StatusOr<SamplerOutput> DeviceSampler::SampleImpl(const ExecCtx& ctx, const Tensor& logits,
                                                  std::span<const Row> rows) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const int64_t vocab = logits.rank() == 2 ? logits.dim(1) : 0;
  std::optional<ScopedPhase> prep_phase(std::in_place, "sampler.prep");
  std::vector<ops::SampleRowParams> params;
  params.reserve(rows.size());
  std::vector<ops::LogitEdit> edits;
  std::vector<int32_t> appends;
  int64_t max_top = 0;
  bool any_lp = false;
  for (const Row& r : rows) {
    int32_t* history = nullptr;
    const int32_t append_begin = static_cast<int32_t>(appends.size());
    if (NeedsHistory(*r.state.params)) {
      ASSIGN_OR_RETURN(history, SyncHistory(ctx, *r.req_id, r.state, appends));
    }
    params.push_back(BuildSampleRow(r.state, vocab, history, &unseeded_state_, edits));
    params.back().append_begin = append_begin;
    params.back().append_end = static_cast<int32_t>(appends.size());
    if (params.back().num_top_logprobs >= 0) {
      any_lp = true;
      max_top = std::max<int64_t>(max_top, params.back().num_top_logprobs);
    }
  }
  ops::SampleOutputs out;
  ASSIGN_OR_RETURN(out.ids, Tensor::Empty(Shape{n}, DType::kI32, device_));
  if (any_lp) {
    ASSIGN_OR_RETURN(out.logprobs, Tensor::Empty(Shape{n}, DType::kF32, device_));
    ASSIGN_OR_RETURN(out.ranks, Tensor::Empty(Shape{n}, DType::kI32, device_));
    if (max_top > 0) {
      ASSIGN_OR_RETURN(out.top_ids, Tensor::Empty(Shape{n, max_top}, DType::kI32, device_));
      ASSIGN_OR_RETURN(out.top_logprobs, Tensor::Empty(Shape{n, max_top}, DType::kF32, device_));
    }
  }
  prep_phase.reset();
  RETURN_IF_ERROR(ops::SampleRows(ctx, logits, params, edits, appends, out));

  SamplerOutput result;
  ASSIGN_OR_RETURN(Tensor ids, ToHost(ctx, out.ids));
  result.sampled_token_ids.assign(ids.data<int32_t>(), ids.data<int32_t>() + n);
  result.logprobs.resize(rows.size());
  ++num_steps_;
  if (any_lp) RETURN_IF_ERROR(CollectLogprobs(ctx, out, params, vocab, result));
  return result;
}

// Copies the logprobs outputs back (only when some row asked) into result.logprobs.
Status DeviceSampler::CollectLogprobs(const ExecCtx& ctx, const ops::SampleOutputs& out,
                                      std::span<const ops::SampleRowParams> params, int64_t vocab,
                                      SamplerOutput& result) {
  ASSIGN_OR_RETURN(Tensor lps, ToHost(ctx, out.logprobs));
  ASSIGN_OR_RETURN(Tensor ranks, ToHost(ctx, out.ranks));
  Tensor top_ids, top_lps;
  const int64_t max_top = out.top_ids.defined() ? out.top_ids.dim(1) : 0;
  if (max_top > 0) {
    ASSIGN_OR_RETURN(top_ids, ToHost(ctx, out.top_ids));
    ASSIGN_OR_RETURN(top_lps, ToHost(ctx, out.top_logprobs));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int32_t k = params[i].num_top_logprobs;
    if (k < 0) continue;
    TokenLogprobs t;
    t.token_ids.push_back(result.sampled_token_ids[i]);
    t.logprobs.push_back(lps.data<float>()[i]);
    t.sampled_rank = ranks.data<int32_t>()[i];
    for (int64_t j = 0; j < std::min<int64_t>(k, vocab); ++j) {
      t.token_ids.push_back(top_ids.data<int32_t>()[i * max_top + j]);
      t.logprobs.push_back(top_lps.data<float>()[i * max_top + j]);
    }
    result.logprobs[i] = std::move(t);
  }
  return OkStatus();
}

}  // namespace pagellm

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
  ASSIGN_OR_RETURN(Pending p, Launch(ctx, logits, rows));
  std::vector<Tensor> host;
  for (const Tensor& t : Outputs(p)) {
    ASSIGN_OR_RETURN(Tensor h, ToHost(ctx, t));
    host.push_back(std::move(h));
  }
  return Finish(p, host);
}

StatusOr<DeviceSampler::Pending> DeviceSampler::Launch(const ExecCtx& ctx, const Tensor& logits,
                                                       std::span<const Row> rows) {
  StatusOr<Pending> out = LaunchImpl(ctx, logits, rows);
  // Histories were marked up to date before the op wrote them: rebuild from the host.
  if (!out.ok()) histories_.clear();
  return out;
}

StatusOr<DeviceSampler::Pending> DeviceSampler::LaunchImpl(const ExecCtx& ctx,
                                                           const Tensor& logits,
                                                           std::span<const Row> rows) {
  const int64_t n = static_cast<int64_t>(rows.size());
  Pending pending;
  pending.vocab = logits.rank() == 2 ? logits.dim(1) : 0;
  std::optional<ScopedPhase> prep_phase(std::in_place, "sampler.prep");
  std::vector<ops::SampleRowParams> params;
  params.reserve(rows.size());
  std::vector<ops::LogitEdit> edits;
  std::vector<int32_t> appends;
  int64_t max_top = 0;
  for (const Row& r : rows) {
    int32_t* history = nullptr;
    const int32_t append_begin = static_cast<int32_t>(appends.size());
    if (NeedsHistory(*r.state.params)) {
      ASSIGN_OR_RETURN(history, SyncHistory(ctx, *r.req_id, r.state, appends));
    }
    params.push_back(BuildSampleRow(r.state, pending.vocab, history, &unseeded_state_, edits));
    params.back().append_begin = append_begin;
    params.back().append_end = static_cast<int32_t>(appends.size());
    pending.num_top_logprobs.push_back(params.back().num_top_logprobs);
    if (params.back().num_top_logprobs >= 0) {
      pending.any_logprobs = true;
      max_top = std::max<int64_t>(max_top, params.back().num_top_logprobs);
    }
  }
  ops::SampleOutputs& out = pending.out;
  ASSIGN_OR_RETURN(out.ids, Tensor::Empty(Shape{n}, DType::kI32, device_));
  if (pending.any_logprobs) {
    ASSIGN_OR_RETURN(out.logprobs, Tensor::Empty(Shape{n}, DType::kF32, device_));
    ASSIGN_OR_RETURN(out.ranks, Tensor::Empty(Shape{n}, DType::kI32, device_));
    if (max_top > 0) {
      ASSIGN_OR_RETURN(out.top_ids, Tensor::Empty(Shape{n, max_top}, DType::kI32, device_));
      ASSIGN_OR_RETURN(out.top_logprobs, Tensor::Empty(Shape{n, max_top}, DType::kF32, device_));
    }
  }
  prep_phase.reset();
  RETURN_IF_ERROR(ops::SampleRows(ctx, logits, params, edits, appends, out));
  ++num_steps_;
  return pending;
}

// Only the outputs some row asked for: ids, then (with logprobs) logprobs, ranks, top ids and
// top logprobs (the last two only when some row wants top tokens).
std::vector<Tensor> DeviceSampler::Outputs(const Pending& p) {
  std::vector<Tensor> v{p.out.ids};
  if (!p.any_logprobs) return v;
  v.push_back(p.out.logprobs);
  v.push_back(p.out.ranks);
  if (p.out.top_ids.defined()) {
    v.push_back(p.out.top_ids);
    v.push_back(p.out.top_logprobs);
  }
  return v;
}

StatusOr<SamplerOutput> DeviceSampler::Finish(const Pending& p,
                                              std::span<const Tensor> host) const {
  if (host.size() != Outputs(p).size())
    return InternalError("DeviceSampler::Finish: wrong number of host outputs");
  const int64_t n = static_cast<int64_t>(p.num_top_logprobs.size());
  SamplerOutput result;
  result.sampled_token_ids.assign(host[0].data<int32_t>(), host[0].data<int32_t>() + n);
  result.logprobs.resize(static_cast<size_t>(n));
  if (!p.any_logprobs) return result;
  const Tensor& lps = host[1];
  const Tensor& ranks = host[2];
  const int64_t max_top = host.size() > 3 ? host[3].dim(1) : 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t k = p.num_top_logprobs[i];
    if (k < 0) continue;
    TokenLogprobs t;
    t.token_ids.push_back(result.sampled_token_ids[i]);
    t.logprobs.push_back(lps.data<float>()[i]);
    t.sampled_rank = ranks.data<int32_t>()[i];
    for (int64_t j = 0; j < std::min<int64_t>(k, p.vocab); ++j) {
      t.token_ids.push_back(host[3].data<int32_t>()[i * max_top + j]);
      t.logprobs.push_back(host[4].data<float>()[i * max_top + j]);
    }
    result.logprobs[i] = std::move(t);
  }
  return result;
}

}  // namespace pagellm

#include "runner/model_runner.h"

#include <algorithm>
#include <optional>

#include "base/phase_timer.h"
#include "ops/graph.h"
#include "ops/ops.h"
#include "sample/logits_processors.h"

namespace pagellm {
namespace {

// Larger decode batches run eagerly (vLLM's default capture limit): their launch overhead is
// small next to the step, and each graph size costs a capture at startup.
constexpr int32_t kMaxGraphBatch = 512;

}  // namespace

StatusOr<std::unique_ptr<ModelRunner>> ModelRunner::Create(Model* model,
                                                           const ModelRunnerConfig& config) {
  if (config.num_blocks <= 0 || config.block_size <= 0) {
    return InvalidArgumentError("ModelRunner: num_blocks and block_size must be positive");
  }
  // The runner's device work goes to a stream of its own (capturable for graphs); what model
  // loading enqueued on the default stream must be done first.
  ExecCtx load_ctx;
  load_ctx.device = model->device();
  RETURN_IF_ERROR(ops::Synchronize(load_ctx));
  ASSIGN_OR_RETURN(std::unique_ptr<ops::Stream> stream, ops::Stream::Create(model->device()));
  ASSIGN_OR_RETURN(KVCache cache, AllocateKVCache(model->kv_cache_spec(), config.num_blocks,
                                                  config.block_size, model->device()));
  std::unique_ptr<ModelRunner> r(
      new ModelRunner(model, config, std::move(stream), std::move(cache)));
  if (config.cuda_graphs && ops::GraphCaptureSupported(r->ctx_) && model->SupportsGraphCapture()) {
    DecodeGraphsConfig gc;
    gc.max_batch = std::min(config.max_num_seqs, kMaxGraphBatch);
    gc.max_model_len = config.max_model_len;
    gc.block_size = config.block_size;
    gc.max_step_tokens = config.max_num_batched_tokens;
    ASSIGN_OR_RETURN(r->graphs_, DecodeGraphs::Create(r->ctx_, model, &r->cache_, gc));
  }
  if (r->ctx_.device.is_cuda()) RETURN_IF_ERROR(r->WarmUp());
  return r;
}

ModelRunner::ModelRunner(Model* model, const ModelRunnerConfig& config,
                         std::unique_ptr<ops::Stream> stream, KVCache cache)
    : model_(model),
      config_(config),
      stream_(std::move(stream)),
      cache_(std::move(cache)),
      sampler_(config.seed) {
  ctx_.device = model->device();
  ctx_.stream = stream_->handle();
  ctx_.batch_invariant = config.batch_invariant;
  using Path = ModelRunnerConfig::SamplingPath;
  if (config.sampling_path == Path::kOp ||
      (config.sampling_path == Path::kAuto && ctx_.device.is_cuda()))
    device_sampler_ = std::make_unique<DeviceSampler>(ctx_.device, config.seed);
}

// One eager prefill-shaped forward (loads the kernels' modules, times GEMM algorithms) and
// every decode graph, so the first requests do not pay for them. The dummy prefill reads and
// writes only block 0, which no request holds yet (a request writes a slot before reading it).
Status ModelRunner::WarmUp() {
  int64_t len = std::min<int64_t>(config_.max_num_batched_tokens, model_->max_model_len());
  if (config_.max_model_len > 0) len = std::min<int64_t>(len, config_.max_model_len);
  const int32_t tokens = static_cast<int32_t>(std::clamp<int64_t>(len, 1, 512));
  const std::vector<int32_t> blocks((tokens + config_.block_size - 1) / config_.block_size, 0);
  std::vector<SeqStep> seqs{SeqStep{tokens, 0, blocks}};
  std::vector<int32_t> ids(static_cast<size_t>(tokens), 0);
  ASSIGN_OR_RETURN(AttentionMetadata meta, BuildAttentionMetadata(ctx_, seqs, config_.block_size));
  ASSIGN_OR_RETURN(Tensor dev_ids, IntsToDevice(ctx_, ids));
  ASSIGN_OR_RETURN(Tensor rows, IntsToDevice(ctx_, {tokens - 1}));
  // GEMM algorithms are timed for the warm-up's shapes: the prefill and every graph's batch.
  ops::AutotuneScope tune(ctx_);
  RETURN_IF_ERROR(model_->Forward(ctx_, dev_ids, meta, cache_, &rows).status());
  if (graphs_) RETURN_IF_ERROR(graphs_->CaptureAll());
  return ops::Synchronize(ctx_);
}

ModelRunner::~ModelRunner() {
  // Buffers die with the runner: let queued work that reads them finish first.
  (void)ops::Synchronize(ctx_);
}

Status ModelRunner::ApplyDiff(const SchedulerOutput& out) {
  for (const auto* ids : {&out.finished_req_ids, &out.preempted_req_ids}) {
    for (const auto& id : *ids) {
      EraseRequest(id);
      if (device_sampler_) device_sampler_->Forget(id);
    }
  }
  for (const NewRequestData& n : out.scheduled_new_reqs) {
    if (device_sampler_) device_sampler_->Forget(n.req_id);
    ReqState s;
    s.tokens = n.prompt_token_ids;
    s.tokens.insert(s.tokens.end(), n.output_token_ids.begin(), n.output_token_ids.end());
    s.num_prompt_tokens = static_cast<int32_t>(n.prompt_token_ids.size());
    s.block_table = n.block_ids;
    s.num_computed = n.num_computed_tokens;
    s.params = n.sampling_params;
    s.eos_token_id = n.eos_token_id;
    reqs_[n.req_id] = std::move(s);
  }
  std::vector<RowRef> cached_order;
  cached_order.reserve(out.scheduled_cached_reqs.size());
  size_t cursor = 0;
  for (const CachedRequestData& c : out.scheduled_cached_reqs) {
    ReqState* found = FindInOrder(c.req_id, last_cached_, cursor, cached_order);
    if (found == nullptr) return InternalError("runner: unknown cached request " + c.req_id);
    ReqState& s = *found;
    s.tokens.insert(s.tokens.end(), c.new_token_ids.begin(), c.new_token_ids.end());
    s.block_table.insert(s.block_table.end(), c.new_block_ids.begin(), c.new_block_ids.end());
    for (const auto& [index, block] : c.replaced_block_ids) {
      if (index < 0 || index >= static_cast<int32_t>(s.block_table.size())) {
        return InternalError("runner: replaced block index out of range for " + c.req_id);
      }
      s.block_table[index] = block;
    }
    s.num_computed = c.num_computed_tokens;
  }
  last_cached_.swap(cached_order);
  return OkStatus();
}

Status ModelRunner::CopyBlocks(const std::vector<BlockCopy>& copies) {
  for (const BlockCopy& c : copies) {
    for (size_t l = 0; l < cache_.k.size(); ++l) {
      for (Tensor* layer : {&cache_.k[l], &cache_.v[l]}) {
        Tensor dst = layer->Select(c.dst_block);
        RETURN_IF_ERROR(ops::Copy(ctx_, layer->Select(c.src_block), dst));
      }
    }
  }
  return OkStatus();
}

void ModelRunner::EraseRequest(const std::string& id) {
  auto it = reqs_.find(id);
  if (it == reqs_.end()) return;
  const ReqState* s = &it->second;
  std::erase_if(last_rows_, [s](const RowRef& row) { return row.second == s; });
  std::erase_if(last_cached_, [s](const RowRef& row) { return row.second == s; });
  reqs_.erase(it);
}

// Steps list their requests in the same order (rows: by id; cached diffs: by schedule), mostly
// the same ones: try the last step's next one before hashing the id. Appends the hit to `order`.
ModelRunner::ReqState* ModelRunner::FindInOrder(const std::string& id,
                                                const std::vector<RowRef>& last, size_t& cursor,
                                                std::vector<RowRef>& order) {
  if (cursor < last.size() && *last[cursor].first == id) {
    order.push_back(last[cursor]);
    return last[cursor++].second;
  }
  auto it = reqs_.find(id);
  if (it == reqs_.end()) return nullptr;
  order.emplace_back(&it->first, &it->second);
  return &it->second;
}

Status ModelRunner::Plan(const SchedulerOutput& out, std::vector<Planned>& plan,
                         std::vector<int32_t>& token_ids, std::vector<SeqStep>& seqs,
                         std::vector<int32_t>& logits_rows) {
  int32_t row = 0;
  const size_t num_reqs = out.num_scheduled_tokens.size();
  plan.reserve(num_reqs);
  seqs.reserve(num_reqs);
  logits_rows.reserve(num_reqs);
  token_ids.reserve(static_cast<size_t>(std::max(out.total_num_scheduled_tokens, 0)));
  std::vector<RowRef> rows;
  rows.reserve(num_reqs);
  size_t cursor = 0;
  for (const auto& [id, n] : out.num_scheduled_tokens) {
    ReqState* found = FindInOrder(id, last_rows_, cursor, rows);
    if (found == nullptr) return InternalError("runner: scheduled unknown request " + id);
    ReqState& s = *found;
    const int32_t known = static_cast<int32_t>(s.tokens.size());
    // Async scheduling: one token past the known ones, sampled by the previous step.
    const int32_t source = s.num_computed + n == known + 1 ? PlaceholderSource(s) : -1;
    if (n <= 0 || s.num_computed + n > known + (source >= 0 ? 1 : 0)) {
      return InternalError("runner: request " + id + " scheduled past its known tokens");
    }
    Planned p{&id, &s, row, n};
    p.num_pending = source >= 0 ? 1 : 0;
    p.samples = s.num_computed + n == known + p.num_pending;
    p.wants_prompt_logprobs = s.params.prompt_logprobs.has_value() &&
                              s.num_computed < s.num_prompt_tokens - 1;
    token_ids.insert(token_ids.end(), s.tokens.begin() + s.num_computed,
                     s.tokens.begin() + s.num_computed + n - p.num_pending);
    if (p.num_pending) token_ids.push_back(-1 - source);
    seqs.push_back(SeqStep{n, s.num_computed, s.block_table});
    if (p.wants_prompt_logprobs) {
      p.first_logits_row = static_cast<int32_t>(logits_rows.size());
      for (int32_t i = 0; i < n; ++i) logits_rows.push_back(row + i);
    } else if (p.samples) {
      p.first_logits_row = static_cast<int32_t>(logits_rows.size());
      logits_rows.push_back(row + n - 1);
    }
    plan.push_back(p);
    row += n;
  }
  last_rows_.swap(rows);
  return OkStatus();
}

StatusOr<Tensor> ModelRunner::Forward(const std::vector<int32_t>& token_ids,
                                      const std::vector<SeqStep>& seqs,
                                      const std::vector<int32_t>& logits_rows,
                                      const Tensor* prev_ids) {
  ScopedPhase phase("runner.forward_enqueue");
  // Pure decode with one logits row per sequence (rows 0..B-1): replay a captured graph.
  const bool pure_decode =
      logits_rows.size() == seqs.size() &&
      std::all_of(seqs.begin(), seqs.end(), [](const SeqStep& s) { return s.num_new_tokens == 1; });
  const bool use_graph =
      graphs_ && pure_decode && graphs_->BucketFor(static_cast<int32_t>(seqs.size())) > 0;
  PhaseTimer& timer = PhaseTimer::Get();
  if (timer.enabled()) {
    int64_t context = 0;
    for (const SeqStep& s : seqs) context += s.num_cached_tokens + s.num_new_tokens;
    timer.Note("seqs", static_cast<double>(seqs.size()));
    timer.Note("tokens", static_cast<double>(token_ids.size()));
    timer.Note("context", static_cast<double>(context));
    timer.Note("graph", use_graph ? 1 : 0);
  }
  if (use_graph) return graphs_->Run(token_ids, seqs, prev_ids);
  std::optional<ScopedPhase> meta_phase(std::in_place, "runner.metadata");
  ASSIGN_OR_RETURN(AttentionMetadata meta, BuildAttentionMetadata(ctx_, seqs, config_.block_size));
  ASSIGN_OR_RETURN(Tensor ids, IntsToDevice(ctx_, token_ids));
  if (prev_ids) RETURN_IF_ERROR(ops::FillPlaceholderIds(ctx_, ids, *prev_ids));
  ASSIGN_OR_RETURN(Tensor rows, IntsToDevice(ctx_, logits_rows));
  meta_phase.reset();
  return model_->Forward(ctx_, ids, meta, cache_, &rows);
}

// Prompt logprobs (vLLM semantics): row at position q scores the prompt token at q + 1.
void ModelRunner::CollectPromptLogprobs(const Planned& p, std::span<const float> logits,
                                        int64_t vocab, std::vector<TokenLogprobs>& out) const {
  const ReqState& s = *p.state;
  int num_top = *s.params.prompt_logprobs < 0 ? static_cast<int>(vocab) : *s.params.prompt_logprobs;
  for (int32_t i = 0; i < p.num_tokens; ++i) {
    int32_t pos = s.num_computed + i;
    if (pos + 1 >= s.num_prompt_tokens) break;
    auto row = logits.subspan(static_cast<size_t>(p.first_logits_row + i) * vocab, vocab);
    std::vector<float> lp = LogSoftmax(row);
    out.push_back(GatherLogprobs(lp, s.tokens[pos + 1], num_top));
  }
}

// Tensor-parallel workers: the same forward pass (its collectives need every rank), no logits
// copy and no sampling; rank 0 samples and sends the tokens back in the next step's diff.
ModelRunnerOutput ModelRunner::SkipSampling(std::vector<Planned>& plan) {
  ModelRunnerOutput result;
  result.req_ids.reserve(plan.size());
  result.sampled_token_ids.reserve(plan.size());
  for (Planned& p : plan) {
    p.state->num_computed += p.num_tokens;
    result.req_ids.push_back(*p.id);
    result.sampled_token_ids.emplace_back();
  }
  return result;
}

namespace {

SamplingState StateOf(const std::vector<int32_t>& tokens, int32_t num_prompt,
                      const SamplingParams& params, std::optional<int32_t> eos) {
  std::span<const int32_t> all(tokens);
  return SamplingState{&params, all.first(num_prompt), all.subspan(num_prompt), eos};
}

}  // namespace

bool ModelRunner::CanSampleOnDevice(const std::vector<Planned>& plan) const {
  if (!device_sampler_) return false;
  for (const Planned& p : plan) {
    if (p.wants_prompt_logprobs) return false;  // needs full rows on the host anyway
    if (p.samples && !DeviceSampler::Supports(p.state->params)) return false;
  }
  return true;
}

// Without prompt logprobs, logits row k is the k-th sampling request of the plan.
StatusOr<SamplerOutput> ModelRunner::SampleOnDevice(const std::vector<Planned>& plan,
                                                    const Tensor& logits) {
  return device_sampler_->Sample(ctx_, logits, DeviceRows(plan));
}

std::vector<DeviceSampler::Row> ModelRunner::DeviceRows(const std::vector<Planned>& plan) const {
  std::vector<DeviceSampler::Row> rows;
  rows.reserve(plan.size());
  for (const Planned& p : plan) {
    if (!p.samples) continue;
    const ReqState& s = *p.state;
    rows.push_back({p.id, StateOf(s.tokens, s.num_prompt_tokens, s.params, s.eos_token_id)});
    rows.back().state.num_pending_outputs = p.num_pending;
  }
  return rows;
}

// The reference path: copy the logits to the host, collect prompt logprobs from the raw rows,
// then run the CPU Sampler.
StatusOr<SamplerOutput> ModelRunner::SampleOnHost(const std::vector<Planned>& plan,
                                                  const Tensor& dev_logits,
                                                  ModelRunnerOutput& result) {
  Tensor host = Tensor::EmptyHost(dev_logits.shape(), DType::kF32);
  RETURN_IF_ERROR(ops::Copy(ctx_, dev_logits, host));
  std::vector<float> logits(host.data<float>(), host.data<float>() + host.numel());
  const int64_t vocab = model_->vocab_size();
  std::vector<std::span<float>> sample_rows;
  std::vector<SamplingState> states;
  for (const Planned& p : plan) {
    if (!p.samples) continue;
    int32_t last = p.first_logits_row + (p.wants_prompt_logprobs ? p.num_tokens - 1 : 0);
    sample_rows.push_back(std::span<float>(logits).subspan(static_cast<size_t>(last) * vocab, vocab));
    const ReqState& s = *p.state;
    states.push_back(StateOf(s.tokens, s.num_prompt_tokens, s.params, s.eos_token_id));
  }
  // Prompt logprobs read the raw rows before sampling overwrites the sampled ones.
  bool any_prompt_lp = std::any_of(plan.begin(), plan.end(),
                                   [](const Planned& p) { return p.wants_prompt_logprobs; });
  if (any_prompt_lp) {
    for (const Planned& p : plan) {
      result.prompt_logprobs.emplace_back();
      if (p.wants_prompt_logprobs) CollectPromptLogprobs(p, logits, vocab, result.prompt_logprobs.back());
    }
  }
  return sampler_.Sample(sample_rows, states);
}

StatusOr<ModelRunnerOutput> ModelRunner::Execute(const SchedulerOutput& out) {
  if (!pending_.empty()) return FailedPreconditionError("runner: Execute with async steps pending");
  ++step_serial_;  // every token is known to the host again: no placeholders
  {
    ScopedPhase diff_phase("runner.apply_diff");
    RETURN_IF_ERROR(ApplyDiff(out));
  }
  RETURN_IF_ERROR(CopyBlocks(out.block_copies));
  ModelRunnerOutput result;
  if (out.num_scheduled_tokens.empty()) return result;

  std::vector<Planned> plan;
  std::vector<int32_t> token_ids, logits_rows;
  std::vector<SeqStep> seqs;
  std::optional<ScopedPhase> phase(std::in_place, "runner.plan");
  RETURN_IF_ERROR(Plan(out, plan, token_ids, seqs, logits_rows));
  phase.reset();
  SamplerOutput sampled;
  if (!logits_rows.empty()) {
    ASSIGN_OR_RETURN(Tensor dev_logits, Forward(token_ids, seqs, logits_rows));
    if (config_.skip_sampling) return SkipSampling(plan);
    phase.emplace("runner.sample");
    if (CanSampleOnDevice(plan)) {
      ASSIGN_OR_RETURN(sampled, SampleOnDevice(plan, dev_logits));
    } else {
      ASSIGN_OR_RETURN(sampled, SampleOnHost(plan, dev_logits, result));
    }
  } else {
    // Only partial prefill chunks: the KV cache still has to be written; one logits row is
    // the cheapest valid request.
    RETURN_IF_ERROR(Forward(token_ids, seqs, {0}).status());
    if (config_.skip_sampling) return SkipSampling(plan);
  }

  phase.emplace("runner.output");
  bool any_lp = std::any_of(sampled.logprobs.begin(), sampled.logprobs.end(),
                            [](const auto& l) { return l.has_value(); });
  if (any_lp) result.logprobs.resize(plan.size());
  result.req_ids.reserve(plan.size());
  result.sampled_token_ids.reserve(plan.size());
  size_t k = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    Planned& p = plan[i];
    result.req_ids.push_back(*p.id);
    result.sampled_token_ids.emplace_back();
    p.state->num_computed += p.num_tokens;
    if (!p.samples) continue;
    result.sampled_token_ids[i].push_back(sampled.sampled_token_ids[k]);
    if (any_lp && sampled.logprobs[k]) result.logprobs[i].push_back(*sampled.logprobs[k]);
    ++k;
  }
  return result;
}

}  // namespace pagellm

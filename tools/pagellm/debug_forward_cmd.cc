// `pagellm debug-forward`: one forward pass of a model over token ids (no tokenizer), printing
// the top-k logits of the last token, and optionally greedy decoding through the KV cache.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "model/forward_batch.h"
#include "model/model.h"
#include "ops/ops.h"
#include "tools/pagellm/commands.h"

namespace pagellm::cli {
namespace {

struct DebugForwardOptions {
  std::string model;
  std::string prompt_ids = "1";
  std::string dtype = "auto";
  std::string load_format = "auto";
  std::string device = "cpu";
  int top = 5;
  int greedy = 0;
  int block_size = 16;
};

StatusOr<std::vector<int32_t>> ParseIds(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return InvalidArgumentError("--prompt-ids: bad token id '" + item + "'");
    }
  }
  if (ids.empty()) return InvalidArgumentError("--prompt-ids is empty");
  return ids;
}

// One sequence in blocks 0, 1, 2, ...: runs `tokens` after `cached` tokens, returns last logits.
StatusOr<std::vector<float>> Step(Model& model, KVCache& cache, const std::vector<int32_t>& blocks,
                                  int32_t cached, const std::vector<int32_t>& tokens) {
  ExecCtx ctx;
  ctx.device = model.device();
  SeqStep seq{static_cast<int32_t>(tokens.size()), cached, blocks};
  ASSIGN_OR_RETURN(AttentionMetadata meta,
                   BuildAttentionMetadata(ctx, std::span<const SeqStep>(&seq, 1), cache.block_size));
  ASSIGN_OR_RETURN(Tensor ids, IntsToDevice(ctx, tokens));
  ASSIGN_OR_RETURN(Tensor rows, IntsToDevice(ctx, LastTokenRows(meta)));
  ASSIGN_OR_RETURN(Tensor logits, model.Forward(ctx, ids, meta, cache, &rows));
  if (!logits.device().is_cpu()) {
    Tensor host = Tensor::EmptyHost(logits.shape(), DType::kF32);
    RETURN_IF_ERROR(ops::Copy(ctx, logits, host));
    logits = host;
  }
  return logits.ToFloatVector();
}

void PrintTop(const std::vector<float>& logits, int k) {
  std::vector<int32_t> idx(logits.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min<int>(k, static_cast<int>(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  std::printf("top-%d logits of the last token:\n", k);
  for (int i = 0; i < k; ++i) std::printf("  %6d  %.6f\n", idx[i], logits[idx[i]]);
}

Status RunDebugForward(const DebugForwardOptions& o) {
  ASSIGN_OR_RETURN(std::vector<int32_t> prompt, ParseIds(o.prompt_ids));
  LoadOptions lo;
  lo.model_dir = o.model;
  lo.dtype = o.dtype;
  ASSIGN_OR_RETURN(lo.load_format, ParseLoadFormat(o.load_format));
  ASSIGN_OR_RETURN(lo.device, ParseDevice(o.device));
  if (o.block_size <= 0 || o.top < 0 || o.greedy < 0)
    return InvalidArgumentError("--block-size must be positive, --top and --greedy >= 0");
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(lo));
  const int64_t total = static_cast<int64_t>(prompt.size()) + o.greedy;
  if (total > model->max_model_len())
    return OutOfRangeError("prompt + --greedy exceeds the model's max length " +
                           std::to_string(model->max_model_len()));
  const int32_t num_blocks = static_cast<int32_t>((total + o.block_size - 1) / o.block_size);
  ASSIGN_OR_RETURN(KVCache cache, AllocateKVCache(model->kv_cache_spec(), num_blocks,
                                                  o.block_size, model->device()));
  std::vector<int32_t> blocks(static_cast<size_t>(num_blocks));
  std::iota(blocks.begin(), blocks.end(), 0);
  std::printf("model: %s (%s, %s), prompt: %zu tokens\n", o.model.c_str(),
              std::string(DTypeName(model->dtype())).c_str(), model->device().ToString().c_str(),
              prompt.size());
  ASSIGN_OR_RETURN(std::vector<float> logits, Step(*model, cache, blocks, 0, prompt));
  PrintTop(logits, o.top);
  if (o.greedy == 0) return OkStatus();
  std::vector<int32_t> out;
  int32_t cached = static_cast<int32_t>(prompt.size());
  for (int i = 0; i < o.greedy; ++i) {
    int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) -
                                        logits.begin());
    out.push_back(next);
    if (i + 1 == o.greedy) break;
    ASSIGN_OR_RETURN(logits, Step(*model, cache, blocks, cached++, {next}));
  }
  std::printf("greedy:");
  for (int32_t t : out) std::printf(" %d", t);
  std::printf("\n");
  return OkStatus();
}

}  // namespace

Command RegisterDebugForward(CLI::App& app) {
  auto o = std::make_shared<DebugForwardOptions>();
  CLI::App* sub = app.add_subcommand(
      "debug-forward", "Run one forward pass over token ids and print the top logits");
  sub->add_option("--model", o->model, "Model directory (config.json + weights)")->required();
  sub->add_option("--prompt-ids", o->prompt_ids, "Comma-separated token ids")->capture_default_str();
  sub->add_option("--dtype", o->dtype, "auto, float32, bfloat16, float16")->capture_default_str();
  sub->add_option("--load-format", o->load_format, "auto, safetensors, pt, dummy")
      ->capture_default_str();
  sub->add_option("--device", o->device, "cpu or cuda[:i]")->capture_default_str();
  sub->add_option("--top", o->top, "How many top logits to print")->capture_default_str();
  sub->add_option("--greedy", o->greedy, "Greedy-decode this many tokens")->capture_default_str();
  sub->add_option("--block-size", o->block_size, "KV cache block size")->capture_default_str();
  return {sub, [o] {
            Status st = RunDebugForward(*o);
            if (st.ok()) return 0;
            std::fprintf(stderr, "debug-forward: %s\n", st.ToString().c_str());
            return 1;
          }};
}

}  // namespace pagellm::cli

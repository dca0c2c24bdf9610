// FakeEngineClient: a deterministic EngineClient for server tests (no model, no GPU).
// Tokenizer: byte-level (token id = byte value), ids 256 = "<s>" (BOS) and 257 = "</s>" (EOS);
// other ids decode to "<id:N>". Output: choice c of a prompt cycles through `pattern` from an
// offset derived from the prompt ids and c, one token (one byte) per engine step, on its own
// engine thread, like the real engine. Stop strings / stop token ids / min_tokens /
// include_stop_str_in_output are applied here (engine side), and streamed text that could
// still become a stop string is withheld, exactly like vLLM's detokenizer does.
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "server/engine_client.h"

namespace pagellm::server {

struct FakeEngineOptions {
  std::vector<std::string> served_model_names = {"fake-model"};
  int max_model_len = 2048;
  std::string pattern = "The quick brown fox jumps over the lazy dog. ";
  std::chrono::microseconds step_delay{0};  // sleep between engine steps
  bool has_tokenizer = true;                // false = --skip-tokenizer-init
  int max_logprobs = 20;
};

class FakeEngineClient : public EngineClient {
 public:
  explicit FakeEngineClient(FakeEngineOptions options = {});
  ~FakeEngineClient() override;
  FakeEngineClient(const FakeEngineClient&) = delete;
  FakeEngineClient& operator=(const FakeEngineClient&) = delete;

  static constexpr int32_t kBos = 256;
  static constexpr int32_t kEos = 257;

  ModelInfo GetModelInfo() const override;
  bool HasTokenizer() const override { return options_.has_tokenizer; }
  StatusOr<std::vector<int32_t>> Encode(const std::string& text,
                                        bool add_special_tokens) const override;
  StatusOr<std::string> Decode(const std::vector<int32_t>& ids,
                               bool skip_special_tokens) const override;
  StatusOr<std::string> ApplyChatTemplate(const ChatTemplateRequest& request) const override;
  Status Generate(GenerateRequest request, OutputCallback on_output) override;
  void Abort(const std::string& request_id) override;
  EngineMetrics GetMetrics() const override;
  Status CheckHealth() const override;

  // Test hooks.
  void SetHealthy(bool healthy) { healthy_ = healthy; }
  int64_t num_aborts() const { return num_aborts_; }
  int64_t num_requests() const { return num_requests_; }
  int num_in_flight() const;
  // The full output text of choice `index` for a prompt (what a non-streamed run returns
  // without stop strings): lets tests predict results.
  std::string ExpectedText(const std::vector<int32_t>& prompt, int index, int max_tokens) const;

 private:
  struct Choice {
    int generated = 0;
    std::string text;     // full text so far (after stop truncation)
    size_t sent = 0;      // chars of text already delivered
    bool finished = false;
  };
  struct Active {
    GenerateRequest request;
    OutputCallback callback;
    std::vector<Choice> choices;
    bool first = true;
    bool aborted = false;
  };

  void Loop();
  // Advances every choice of `a` by one token; returns the delta to deliver.
  RequestOutputDelta Step(Active& a) const;
  void StepChoice(Active& a, int c, ChoiceDelta& d) const;
  int32_t TokenAt(const std::vector<int32_t>& prompt, int index, int position) const;
  TokenLogprob MakeLogprob(int32_t id, int k, int position) const;
  std::string TokenText(int32_t id) const;

  FakeEngineOptions options_;
  std::atomic<bool> healthy_{true};
  std::atomic<int64_t> num_aborts_{0};
  std::atomic<int64_t> num_requests_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Active>> active_;
  std::deque<std::shared_ptr<Active>> aborted_;  // owe a final "abort" delta
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace pagellm::server

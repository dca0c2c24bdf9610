#include "tokenizer/bpe_model.h"

#include <cstdio>
#include <queue>

#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

namespace {
constexpr size_t kMaxCacheEntries = 200000;
constexpr size_t kMaxCachedWordBytes = 256;

uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
}  // namespace

void Vocab::Add(std::string token, int32_t id) {
  if (static_cast<size_t>(id) >= tokens_.size()) {
    tokens_.resize(id + 1);
    present_.resize(id + 1, false);
  }
  present_[id] = true;
  tokens_[id] = token;
  map_.insert_or_assign(std::move(token), id);
}

StatusOr<std::unique_ptr<BpeModel>> BpeModel::Create(
    Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
    BpeOptions options) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->vocab_ = std::move(vocab);
  m->opt_ = std::move(options);
  const size_t plen = m->opt_.continuing_subword_prefix.size();
  m->merges_.reserve(merges.size() * 2);
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    auto ia = m->vocab_.Find(a), ib = m->vocab_.Find(b);
    if (!ia || !ib) {
      return InvalidArgumentError("merge " + std::to_string(r) + " ('" + a + "' '" + b +
                                  "') uses a token missing from the vocabulary");
    }
    std::string merged = a + (b.compare(0, plen, m->opt_.continuing_subword_prefix) == 0 && plen
                                  ? b.substr(plen) : b);
    auto inew = m->vocab_.Find(merged);
    if (!inew) {
      return InvalidArgumentError("merge " + std::to_string(r) + " result '" + merged +
                                  "' is missing from the vocabulary");
    }
    // The first occurrence of a pair wins (HF keeps the lowest rank).
    m->merges_.emplace(PairKey(*ia, *ib), MergeInfo{static_cast<int32_t>(r), *inew});
  }
  if (m->opt_.unk_token) {
    m->unk_id_ = m->vocab_.Find(*m->opt_.unk_token);
  }
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    m->byte_ids_[b] = m->vocab_.Find(buf);
  }
  return m;
}

const BpeModel::MergeInfo* BpeModel::FindMerge(int32_t a, int32_t b) const {
  auto it = merges_.find(PairKey(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

Status BpeModel::InitialSymbols(std::string_view word, std::vector<int32_t>* syms,
                                std::vector<int32_t>* lens) const {
  std::optional<int32_t> pending_unk;
  std::string s;
  for (size_t i = 0; i < word.size();) {
    size_t n = std::min<size_t>(Utf8Len(static_cast<unsigned char>(word[i])), word.size() - i);
    bool first = i == 0, last = i + n == word.size();
    std::optional<int32_t> id;
    std::string_view piece = word.substr(i, n);
    if ((first || opt_.continuing_subword_prefix.empty()) &&
        (!last || opt_.end_of_word_suffix.empty())) {
      id = vocab_.Find(piece);
    } else {
      s.clear();
      if (!first) s += opt_.continuing_subword_prefix;
      s += piece;
      if (last) s += opt_.end_of_word_suffix;
      id = vocab_.Find(s);
      piece = s;
    }
    i += n;
    if (id) {
      if (pending_unk) syms->push_back(*pending_unk), pending_unk.reset();
      syms->push_back(*id);
      continue;
    }
    if (opt_.byte_fallback) {
      bool all = true;
      for (unsigned char c : piece) all &= byte_ids_[c].has_value();
      if (all) {
        for (unsigned char c : piece) syms->push_back(*byte_ids_[c]);
        continue;
      }
    }
    if (opt_.unk_token) {
      if (!unk_id_) {
        return InvalidArgumentError("unk token '" + *opt_.unk_token + "' is not in the vocabulary");
      }
      if (pending_unk && !opt_.fuse_unk) syms->push_back(*pending_unk);
      pending_unk = *unk_id_;
    }
  }
  if (pending_unk) syms->push_back(*pending_unk);
  (void)lens;
  return OkStatus();
}

void BpeModel::MergeAll(std::vector<int32_t>* syms) const {
  const int n = static_cast<int>(syms->size());
  if (n < 2) return;
  struct Cand {
    int32_t rank, pos, new_id;
    bool operator<(const Cand& o) const {  // priority_queue pops the largest: invert
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::vector<int32_t>& c = *syms;
  std::vector<int32_t> prev(n), next(n);
  std::vector<char> alive(n, 1);
  std::vector<Cand> heap_storage;
  heap_storage.reserve(n);
  std::priority_queue<Cand> heap(std::less<Cand>(), std::move(heap_storage));
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
    if (i + 1 < n) {
      if (const MergeInfo* m = FindMerge(c[i], c[i + 1])) heap.push({m->rank, i, m->new_id});
    }
  }
  while (!heap.empty()) {
    Cand top = heap.top();
    heap.pop();
    int p = top.pos;
    if (!alive[p] || next[p] < 0) continue;
    int q = next[p];
    const MergeInfo* m = FindMerge(c[p], c[q]);
    if (m == nullptr || m->new_id != top.new_id) continue;  // stale entry
    c[p] = top.new_id;
    alive[q] = 0;
    next[p] = next[q];
    if (next[q] >= 0) prev[next[q]] = p;
    if (prev[p] >= 0) {
      if (const MergeInfo* mm = FindMerge(c[prev[p]], c[p])) heap.push({mm->rank, prev[p], mm->new_id});
    }
    if (next[p] >= 0) {
      if (const MergeInfo* mm = FindMerge(c[p], c[next[p]])) heap.push({mm->rank, p, mm->new_id});
    }
  }
  int w = 0;
  for (int i = 0; i < n; ++i) if (alive[i]) c[w++] = c[i];
  c.resize(w);
}

Status BpeModel::Tokenize(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty()) return OkStatus();
  if (opt_.ignore_merges) {
    if (auto id = vocab_.Find(word)) {
      ids->push_back(*id);
      return OkStatus();
    }
  }
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return OkStatus();
    }
  }
  std::vector<int32_t> syms;
  syms.reserve(word.size());
  RETURN_IF_ERROR(InitialSymbols(word, &syms, nullptr));
  MergeAll(&syms);
  ids->insert(ids->end(), syms.begin(), syms.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(word), std::move(syms));
  }
  return OkStatus();
}

}  // namespace pagellm::tokenizer

#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

void AddedVocabulary::Trie::Insert(std::string_view key, int32_t value) {
  if (key.empty()) return;
  first_[static_cast<unsigned char>(key[0])] = true;
  int32_t n = 0;
  for (unsigned char c : key) {
    auto& next = nodes_[n].next;
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(c, int32_t{-1}));
    if (it != next.end() && it->first == c) {
      n = it->second;
    } else {
      int32_t child = static_cast<int32_t>(nodes_.size());
      next.insert(it, {c, child});
      nodes_.emplace_back();
      n = child;
    }
  }
  if (nodes_[n].value < 0) nodes_[n].value = value;  // first token with this content wins
}

int32_t AddedVocabulary::Trie::LongestAt(std::string_view s, size_t pos, size_t* len) const {
  int32_t best = -1;
  int32_t n = 0;
  for (size_t i = pos; i < s.size(); ++i) {
    const auto& next = nodes_[n].next;
    auto c = static_cast<unsigned char>(s[i]);
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(c, int32_t{-1}));
    if (it == next.end() || it->first != c) break;
    n = it->second;
    if (nodes_[n].value >= 0) {
      best = nodes_[n].value;
      *len = i + 1 - pos;
    }
  }
  return best;
}

StatusOr<AddedVocabulary> AddedVocabulary::Create(std::vector<AddedToken> tokens,
                                                  const Normalizer* normalizer) {
  AddedVocabulary v;
  v.tokens_ = std::move(tokens);
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    const AddedToken& t = v.tokens_[i];
    if (t.id < 0) return InvalidArgumentError("added token '" + t.content + "' has a bad id");
    if (!IsValidUtf8(t.content)) return InvalidArgumentError("added token is not valid UTF-8");
    if (static_cast<size_t>(t.id) >= v.by_id_.size()) v.by_id_.resize(t.id + 1, -1);
    if (v.by_id_[t.id] < 0) v.by_id_[t.id] = static_cast<int32_t>(i);
    v.by_content_.emplace(t.content, i);
    if (t.normalized && normalizer != nullptr) {
      std::string n = t.content;
      RETURN_IF_ERROR(normalizer->Normalize(&n));
      v.normalized_trie_.Insert(n, static_cast<int32_t>(i));
    } else if (t.normalized) {
      v.normalized_trie_.Insert(t.content, static_cast<int32_t>(i));
    } else {
      v.raw_trie_.Insert(t.content, static_cast<int32_t>(i));
    }
  }
  return v;
}

const AddedToken* AddedVocabulary::FindById(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= by_id_.size() || by_id_[id] < 0) return nullptr;
  return &tokens_[by_id_[id]];
}

const AddedToken* AddedVocabulary::FindByContent(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

namespace {

bool IsWordChar(char32_t c) { return IsAlphanumeric(c) || c == '_'; }

// Code point ending at byte `end` (REQUIRES end > 0, valid UTF-8).
char32_t CharBefore(std::string_view s, size_t end) {
  size_t k = end - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  char32_t c;
  DecodeUtf8(s, k, &c);
  return c;
}

}  // namespace

void AddedVocabulary::FindMatches(std::string_view s, const Trie& trie,
                                  std::vector<Match>* out) const {
  size_t consumed = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    int32_t idx = trie.MayStartWith(static_cast<unsigned char>(s[i])) ? trie.LongestAt(s, i, &len)
                                                                       : -1;
    if (idx < 0) {
      ++i;
      continue;
    }
    const AddedToken& t = tokens_[idx];
    size_t b = i, e = i + len;
    if (t.single_word) {
      bool start_ok = b == 0 || !IsWordChar(CharBefore(s, b));
      char32_t after = 0;
      bool stop_ok = e == s.size() || (DecodeUtf8(s, e, &after), !IsWordChar(after));
      if (!start_ok || !stop_ok) {
        ++i;
        continue;
      }
    }
    if (t.lstrip) {
      while (b > consumed && IsWhitespace(CharBefore(s, b))) {
        do { --b; } while (b > consumed && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80);
      }
    }
    if (t.rstrip) {
      char32_t c;
      while (e < s.size()) {
        int n = DecodeUtf8(s, e, &c);
        if (!IsWhitespace(c)) break;
        e += n;
      }
    }
    out->push_back({idx, b, e});
    consumed = e;
    i = e;
  }
}

Status AddedVocabulary::ExtractAndNormalize(std::string_view text, const Normalizer* normalizer,
                                            std::vector<InputPiece>* out) const {
  std::vector<Match> matches;
  if (!raw_trie_.empty()) FindMatches(text, raw_trie_, &matches);
  auto emit_text = [&](std::string_view raw, bool at_start) -> Status {
    if (raw.empty()) return OkStatus();
    std::string norm(raw);
    if (normalizer != nullptr) RETURN_IF_ERROR(normalizer->Normalize(&norm));
    if (normalized_trie_.empty()) {
      if (!norm.empty()) out->push_back({std::move(norm), -1, at_start});
      return OkStatus();
    }
    std::vector<Match> nm;
    FindMatches(norm, normalized_trie_, &nm);
    size_t prev = 0;
    for (const Match& m : nm) {
      if (m.b > prev) out->push_back({norm.substr(prev, m.b - prev), -1, at_start && prev == 0});
      out->push_back({norm.substr(m.b, m.e - m.b), tokens_[m.token_index].id, false});
      prev = m.e;
    }
    if (prev < norm.size()) out->push_back({norm.substr(prev), -1, at_start && prev == 0});
    return OkStatus();
  };
  size_t prev = 0;
  for (const Match& m : matches) {
    RETURN_IF_ERROR(emit_text(text.substr(prev, m.b - prev), prev == 0));
    out->push_back({std::string(text.substr(m.b, m.e - m.b)), tokens_[m.token_index].id, false});
    prev = m.e;
  }
  return emit_text(text.substr(prev), prev == 0);
}

}  // namespace pagellm::tokenizer

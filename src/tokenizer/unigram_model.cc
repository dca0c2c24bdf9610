#include "tokenizer/unigram_model.h"

#include <cstdio>
#include <limits>

#include "tokenizer/unicode.h"

namespace pagellm::tokenizer {

StatusOr<std::unique_ptr<UnigramModel>> UnigramModel::Create(
    std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
    bool byte_fallback) {
  std::unique_ptr<UnigramModel> m(new UnigramModel());
  double min_score = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < pieces.size(); ++i) {
    m->max_piece_bytes_ = std::max(m->max_piece_bytes_, pieces[i].first.size());
    min_score = std::min(min_score, pieces[i].second);
    m->scores_.push_back(pieces[i].second);
    m->vocab_.Add(std::move(pieces[i].first), static_cast<int32_t>(i));
  }
  if (unk_id && (*unk_id < 0 || static_cast<size_t>(*unk_id) >= pieces.size())) {
    return InvalidArgumentError("Unigram unk_id out of range");
  }
  m->unk_id_ = unk_id;
  m->byte_fallback_ = byte_fallback;
  m->unk_score_ = (pieces.empty() ? 0.0 : min_score) - 10.0;
  return m;
}

Status UnigramModel::Tokenize(std::string_view w, std::vector<int32_t>* ids) const {
  if (w.empty()) return OkStatus();
  struct Node {
    int32_t id = -1;
    size_t start = 0;
    double score = 0;
    bool set = false;
  };
  std::vector<Node> best(w.size() + 1);
  best[0].set = true;
  for (size_t s = 0; s < w.size();) {
    size_t ch = std::min<size_t>(Utf8Len(static_cast<unsigned char>(w[s])), w.size() - s);
    if (!best[s].set) {
      s += ch;
      continue;
    }
    bool single = false;
    for (size_t len = 1; len <= max_piece_bytes_ && s + len <= w.size(); ++len) {
      auto id = vocab_.Find(w.substr(s, len));
      if (!id) continue;
      double cand = best[s].score + scores_[*id];
      Node& b = best[s + len];
      if (!b.set || cand > b.score) b = Node{*id, s, cand, true};
      if (len == ch) single = true;
    }
    if (!single) {
      if (!unk_id_) return InvalidArgumentError("Unigram: unknown character and no unk_id");
      double cand = best[s].score + unk_score_;
      Node& b = best[s + ch];
      if (!b.set || cand > b.score) b = Node{*unk_id_, s, cand, true};
    }
    s += ch;
  }
  // Backtrack, fusing consecutive unknowns into one span.
  std::vector<std::pair<int32_t, std::pair<size_t, size_t>>> toks;
  for (size_t e = w.size(); e > 0;) {
    const Node& n = best[e];
    if (!n.set) return InternalError("Unigram lattice has no path");
    if (unk_id_ && n.id == *unk_id_ && !toks.empty() && toks.back().first == *unk_id_) {
      toks.back().second.first = n.start;
    } else {
      toks.push_back({n.id, {n.start, e}});
    }
    e = n.start;
  }
  for (auto it = toks.rbegin(); it != toks.rend(); ++it) {
    if (byte_fallback_ && unk_id_ && it->first == *unk_id_) {
      std::vector<int32_t> bytes;
      for (size_t k = it->second.first; k < it->second.second; ++k) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "<0x%02X>", static_cast<unsigned char>(w[k]));
        auto id = vocab_.Find(buf);
        if (!id) break;
        bytes.push_back(*id);
      }
      if (bytes.size() == it->second.second - it->second.first) {
        ids->insert(ids->end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    ids->push_back(it->first);
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<WordPieceModel>> WordPieceModel::Create(Vocab vocab, std::string unk,
                                                                 std::string prefix,
                                                                 size_t max_chars) {
  std::unique_ptr<WordPieceModel> m(new WordPieceModel());
  auto id = vocab.Find(unk);
  if (!id) return InvalidArgumentError("WordPiece unk token '" + unk + "' is not in the vocab");
  m->vocab_ = std::move(vocab);
  m->unk_id_ = *id;
  m->prefix_ = std::move(prefix);
  m->max_chars_ = max_chars;
  return m;
}

Status WordPieceModel::Tokenize(std::string_view w, std::vector<int32_t>* ids) const {
  size_t nchars = 0;
  for (size_t i = 0; i < w.size(); i += Utf8Len(static_cast<unsigned char>(w[i]))) ++nchars;
  if (nchars > max_chars_) {
    ids->push_back(unk_id_);
    return OkStatus();
  }
  std::vector<int32_t> out;
  std::string buf;
  for (size_t start = 0; start < w.size();) {
    size_t end = w.size();
    std::optional<int32_t> cur;
    while (start < end) {
      buf.assign(start > 0 ? prefix_ : "");
      buf.append(w.substr(start, end - start));
      if ((cur = vocab_.Find(buf))) break;
      do { --end; } while (end > start && (static_cast<unsigned char>(w[end]) & 0xC0) == 0x80);
    }
    if (!cur) {
      ids->push_back(unk_id_);
      return OkStatus();
    }
    out.push_back(*cur);
    start = end;
  }
  ids->insert(ids->end(), out.begin(), out.end());
  return OkStatus();
}

}  // namespace pagellm::tokenizer

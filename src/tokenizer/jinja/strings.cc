#include "tokenizer/jinja/strings.h"

#include "tokenizer/jinja/pyformat.h"

namespace pagellm::jinja {

char32_t PyUpper(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if ((c >= 0xe0 && c <= 0xfe && c != 0xf7)) return c - 32;
  if (c == 0xff) return 0x178;
  if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 32;
  if (c >= 0x430 && c <= 0x44f) return c - 32;
  if (c >= 0x450 && c <= 0x45f) return c - 80;
  if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17f) {
    // Latin Extended-A alternates upper/lower in pairs (with an offset in 0x139..0x148 and
    // 0x179..0x17e).
    bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e);
    bool is_lower = odd_lower ? (c % 2 == 0) : (c % 2 == 1);
    return is_lower ? c - 1 : c;
  }
  return c;
}

char32_t PyLower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 32;
  if (c == 0x178) return 0xff;
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
      c != 0x17f) {
    bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e);
    bool is_upper = odd_lower ? (c % 2 == 1) : (c % 2 == 0);
    return is_upper ? c + 1 : c;
  }
  return c;
}

bool IsCased(char32_t c) { return PyUpper(c) != c || PyLower(c) != c; }

namespace {

template <typename F>
std::string MapCodePoints(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : DecodeUtf8(s)) AppendUtf8(f(c), &out);
  return out;
}

bool InSet(char32_t c, const std::optional<std::vector<char32_t>>& set) {
  if (!set) return IsPySpace(c);
  for (char32_t x : *set) {
    if (x == c) return true;
  }
  return false;
}

}  // namespace

std::string StrUpper(std::string_view s) { return MapCodePoints(s, PyUpper); }
std::string StrLower(std::string_view s) { return MapCodePoints(s, PyLower); }

std::string StrTitle(std::string_view s) {
  bool prev_cased = false;
  return MapCodePoints(s, [&](char32_t c) {
    char32_t r = prev_cased ? PyLower(c) : PyUpper(c);
    prev_cased = IsCased(c);
    return r;
  });
}

std::string StrCapitalize(std::string_view s) {
  bool first = true;
  return MapCodePoints(s, [&](char32_t c) {
    char32_t r = first ? PyUpper(c) : PyLower(c);
    first = false;
    return r;
  });
}

std::string StrStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                     bool right) {
  std::vector<char32_t> cps = DecodeUtf8(s);
  std::optional<std::vector<char32_t>> set;
  if (chars) set = DecodeUtf8(*chars);
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && InSet(cps[b], set)) ++b;
  }
  if (right) {
    while (e > b && InSet(cps[e - 1], set)) --e;
  }
  return EncodeUtf8(cps, b, e);
}

std::vector<std::string> StrSplit(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      size_t f = s.find(*sep, pos);
      if (f == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, f - pos));
      pos = f + sep->size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  std::vector<char32_t> cps = DecodeUtf8(s);
  size_t i = 0;
  while (true) {
    while (i < cps.size() && IsPySpace(cps[i])) ++i;
    if (i >= cps.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      size_t e = cps.size();
      while (e > i && IsPySpace(cps[e - 1])) --e;
      out.push_back(EncodeUtf8(cps, i, e));
      break;
    }
    size_t j = i;
    while (j < cps.size() && !IsPySpace(cps[j])) ++j;
    out.push_back(EncodeUtf8(cps, i, j));
    i = j;
  }
  return out;
}

std::vector<std::string> StrRSplit(std::string_view s, const std::optional<std::string>& sep,
                                   int64_t maxsplit) {
  if (!sep || maxsplit < 0) return StrSplit(s, sep, maxsplit);
  std::vector<std::string> out;
  size_t end = s.size();
  while (static_cast<int64_t>(out.size()) < maxsplit) {
    if (end < sep->size()) break;
    size_t f = s.rfind(*sep, end - sep->size());
    if (f == std::string_view::npos) break;
    out.emplace(out.begin(), s.substr(f + sep->size(), end - f - sep->size()));
    end = f;
  }
  out.emplace(out.begin(), s.substr(0, end));
  return out;
}

std::string StrReplace(std::string_view s, std::string_view from, std::string_view to,
                       int64_t count, size_t max_bytes) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` between every code point and at both ends.
    std::vector<char32_t> cps = DecodeUtf8(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size() && out.size() <= max_bytes; ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i < cps.size()) AppendUtf8(cps[i], &out);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while ((count < 0 || done < count) && out.size() <= max_bytes) {
    size_t f = s.find(from, pos);
    if (f == std::string_view::npos) break;
    out.append(s.substr(pos, f - pos));
    out.append(to);
    pos = f + from.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

int64_t StrCount(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(Utf8Length(s)) + 1;
  int64_t n = 0;
  for (size_t pos = s.find(sub); pos != std::string_view::npos;
       pos = s.find(sub, pos + sub.size())) {
    ++n;
  }
  return n;
}

int64_t StrFind(std::string_view s, std::string_view sub, bool reverse) {
  size_t f = reverse ? s.rfind(sub) : s.find(sub);
  if (f == std::string_view::npos) return -1;
  return static_cast<int64_t>(Utf8Length(s.substr(0, f)));
}

}  // namespace pagellm::jinja

#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <array>
#include <unordered_map>

namespace pagellm::tokenizer {

const char kReplacementChar[] = "\xEF\xBF\xBD";

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid; `*bad_len` gets the length of
// the maximal invalid subpart (>= 1) when invalid.
int ValidSeqLen(std::string_view s, size_t i, int* bad_len) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  unsigned char c = p[i];
  *bad_len = 1;
  if (c < 0x80) return 1;
  int len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (int k = 1; k < len; ++k) {
    if (i + k >= n) return 0;
    unsigned char b = p[i + k];
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return 0;
    *bad_len = k + 1;
  }
  return len;
}

}  // namespace

Status ValidateUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    int bad;
    int len = ValidSeqLen(s, i, &bad);
    if (len == 0) {
      return InvalidArgumentError("invalid UTF-8 at byte offset " + std::to_string(i));
    }
    i += len;
  }
  return OkStatus();
}

bool IsValidUtf8(std::string_view s) { return ValidateUtf8(s).ok(); }

int DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  int len = Utf8Len(p[0]);
  if (i + len > s.size()) len = 1;
  switch (len) {
    case 1: *cp = p[0]; break;
    case 2: *cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F); break;
    case 3: *cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); break;
    default:
      *cp = ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  }
  return len;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Utf8Lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    int bad;
    int len = ValidSeqLen(s, i, &bad);
    if (len == 0) {
      out += kReplacementChar;
      i += bad;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return out;
}

size_t CompleteUtf8Prefix(std::string_view s) {
  // Walk back over at most 3 continuation bytes to the last lead byte.
  size_t n = s.size();
  size_t k = 0;
  while (k < 3 && k < n && (static_cast<unsigned char>(s[n - 1 - k]) & 0xC0) == 0x80) ++k;
  if (k == n) return n;
  auto lead = static_cast<unsigned char>(s[n - 1 - k]);
  int need = Utf8Len(lead);
  if (lead >= 0x80 && need > 1 && static_cast<size_t>(need) > k + 1) return n - 1 - k;
  return n;
}

bool IsWhitespace(char32_t c) {
  return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

static utf8proc_category_t Cat(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool IsNumeric(char32_t c) {
  auto k = Cat(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

bool IsAlphanumeric(char32_t c) {
  auto k = Cat(c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || IsNumeric(c);
}

bool IsPunctuation(char32_t c) {
  if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                       (c >= 123 && c <= 126);
  auto k = Cat(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool IsControl(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  auto k = Cat(c);
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CN ||
         k == UTF8PROC_CATEGORY_CO;
}

bool IsCombiningMark(char32_t c) { return Cat(c) == UTF8PROC_CATEGORY_MN; }

bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

namespace {
struct ByteTables {
  std::array<std::string, 256> to_unicode;
  std::array<int16_t, 512> to_byte;  // every mapped code point is below U+0200
  ByteTables() {
    // Printable Latin-1 bytes map to themselves; the rest to U+0100 upwards in byte order.
    int n = 0;
    to_byte.fill(-1);
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      char32_t cp = printable ? b : 256 + n++;
      AppendUtf8(cp, &to_unicode[b]);
      to_byte[cp] = b;
    }
  }
};
const ByteTables& Tables() {
  static const ByteTables t;
  return t;
}
}  // namespace

const std::string& ByteToUnicode(uint8_t b) { return Tables().to_unicode[b]; }

void AppendByteLevel(std::string_view bytes, std::string* out) {
  const auto& t = Tables().to_unicode;
  out->reserve(out->size() + bytes.size() * 2);
  for (unsigned char c : bytes) {
    // Mapped code points are 1 byte (printable ASCII/Latin-1 stays) or 2 bytes of UTF-8.
    const std::string& m = t[c];
    if (m.size() == 1) out->push_back(m[0]);
    else out->append(m);
  }
}

int UnicodeToByte(char32_t cp) {
  return cp < 512 ? Tables().to_byte[cp] : -1;
}

}  // namespace pagellm::tokenizer

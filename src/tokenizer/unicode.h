// UTF-8 and Unicode helpers shared by the tokenizer pipeline (thin layer over utf8proc).
// Thread-safety: all functions are pure / use immutable tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pagellm::tokenizer {

// OK if `s` is well-formed UTF-8; otherwise InvalidArgument naming the byte offset.
Status ValidateUtf8(std::string_view s);
bool IsValidUtf8(std::string_view s);

// Decodes the code point at s[i] (REQUIRES: valid UTF-8) and returns its byte length.
int DecodeUtf8(std::string_view s, size_t i, char32_t* cp);
// Byte length of the UTF-8 sequence starting with lead byte `c` (1 for invalid leads).
inline int Utf8Len(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
}
void AppendUtf8(char32_t cp, std::string* out);

// Bytes -> UTF-8 with each maximal invalid subsequence replaced by U+FFFD (Rust's
// String::from_utf8_lossy, which HF decoders use).
std::string Utf8Lossy(std::string_view bytes);
// Length of the longest prefix of `s` that is complete UTF-8 (drops a truncated tail).
size_t CompleteUtf8Prefix(std::string_view s);

// Character classes with Rust `char` semantics (what HF tokenizers uses).
bool IsWhitespace(char32_t c);     // White_Space property
bool IsAlphanumeric(char32_t c);   // L*, N*
bool IsNumeric(char32_t c);        // N*
bool IsPunctuation(char32_t c);    // ASCII punctuation or P*
bool IsControl(char32_t c);        // Cc, Cf... as BertNormalizer defines it
bool IsCombiningMark(char32_t c);  // Mn
bool IsChineseChar(char32_t c);    // CJK ideograph blocks (BertNormalizer)

// GPT-2 byte-level alphabet: each byte maps to one printable code point.
const std::string& ByteToUnicode(uint8_t b);  // UTF-8 of the mapped code point
// Returns the byte for a mapped code point, or -1 if `cp` is not in the alphabet.
int UnicodeToByte(char32_t cp);
// Appends the byte-level form of `bytes` (each byte -> its code point's UTF-8).
void AppendByteLevel(std::string_view bytes, std::string* out);

extern const char kReplacementChar[];  // "\xEF\xBF\xBD" (U+FFFD)

}  // namespace pagellm::tokenizer

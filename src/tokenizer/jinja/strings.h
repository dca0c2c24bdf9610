// Python str methods used by chat templates (and by the filters built on them), on UTF-8.
// Case mapping covers ASCII, Latin-1, Greek and Cyrillic (no full Unicode database).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pagellm::jinja {

char32_t PyUpper(char32_t c);
char32_t PyLower(char32_t c);
bool IsCased(char32_t c);

std::string StrUpper(std::string_view s);
std::string StrLower(std::string_view s);
std::string StrTitle(std::string_view s);       // str.title()
std::string StrCapitalize(std::string_view s);  // str.capitalize()
// str.strip/lstrip/rstrip; nullopt chars strips whitespace.
std::string StrStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                     bool right);
// str.split(sep, maxsplit); nullopt sep splits on whitespace runs. REQUIRES: sep non-empty.
std::vector<std::string> StrSplit(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit);
std::vector<std::string> StrRSplit(std::string_view s, const std::optional<std::string>& sep,
                                   int64_t maxsplit);
// str.replace(old, new, count); count < 0 replaces all.
std::string StrReplace(std::string_view s, std::string_view from, std::string_view to,
                       int64_t count, size_t max_bytes);
int64_t StrCount(std::string_view s, std::string_view sub);
// str.find in code points; -1 when absent.
int64_t StrFind(std::string_view s, std::string_view sub, bool reverse);

}  // namespace pagellm::jinja

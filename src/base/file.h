// Small file helpers that return Status instead of throwing.
#pragma once

#include <string>

#include "base/status.h"

namespace pagellm {

StatusOr<std::string> ReadFileToString(const std::string& path);
Status WriteStringToFile(const std::string& path, std::string_view data);
bool FileExists(const std::string& path);
bool IsDirectory(const std::string& path);
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace pagellm

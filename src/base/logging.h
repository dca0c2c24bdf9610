// Logging through spdlog. LOG_INFO("KV cache: {} tokens", n).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace pagellm {
// Sets the level from a name: trace, debug, info, warn, error, off.
void SetLogLevel(std::string_view level);
}  // namespace pagellm

#define LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)

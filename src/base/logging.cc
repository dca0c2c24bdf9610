#include "base/logging.h"

#include <string>

namespace pagellm {

void SetLogLevel(std::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace pagellm

#include "model/testing/fixtures.h"

#include <cstdlib>

#include "base/file.h"

namespace pagellm::testing {

std::string FixtureModelDir(const std::string& name) {
  const char* data = std::getenv("PAGELLM_TEST_DATA");
  const std::string root = JoinPath(data ? data : PAGELLM_SOURCE_DIR "/tests/data", "models");
  return name.empty() ? root : JoinPath(root, name);
}

}  // namespace pagellm::testing

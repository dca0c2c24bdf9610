// Where the model fixtures live: $PAGELLM_TEST_DATA/models (set by CTest), else the source
// tree's tests/data/models. Fixtures are made on the GPU machine by tools/fixtures/models.
#pragma once

#include <string>

namespace pagellm::testing {

// The fixture directory `name` (empty: the directory holding every fixture).
std::string FixtureModelDir(const std::string& name = "");

}  // namespace pagellm::testing

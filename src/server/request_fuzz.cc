// Fuzz entry point for the request parsers: any bytes in, never a crash or an exception.
// Built as a libFuzzer target with -DPAGELLM_FUZZ=ON (clang); fuzz_smoke_test.cc drives it
// with seeded random/mutated bodies in every build.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pagellm::server;
  std::string body(reinterpret_cast<const char*>(data), size);
  auto json = ParseJsonObject(body);
  if (!json.ok()) return 0;
  (void)ParseCompletionRequest(*json, 20);
  (void)ParseChatRequest(*json, 20);
  (void)ParseTokenizeRequest(*json);
  (void)ParseDetokenizeRequest(*json);
  (void)ParseLegacyGenerateRequest(*json, 20);
  return 0;
}

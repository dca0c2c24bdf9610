// The body of the chat-template fuzz target, shared by the libFuzzer entry point
// (template_fuzz.cc, PAGELLM_FUZZ=ON) and the always-on smoke test (fuzz_smoke_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pagellm::jinja {

// Parses `data` as a template and, when it parses, renders it against a small chat context
// under tight limits. Must never crash, hang or throw, whatever the bytes.
void FuzzTemplateOnce(const uint8_t* data, size_t size);

}  // namespace pagellm::jinja

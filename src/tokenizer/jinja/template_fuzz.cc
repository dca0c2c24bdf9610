// libFuzzer entry point for the chat-template parser and interpreter (PAGELLM_FUZZ=ON, clang).
//   build/src/tokenizer/jinja/jinja_template_fuzz -max_total_time=60 CORPUS_DIR
#include <cstddef>
#include <cstdint>

#include "tokenizer/jinja/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pagellm::jinja::FuzzTemplateOnce(data, size);
  return 0;
}

// The table of supported architectures (config.json "architectures" names).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/config.h"
#include "model/decoder_spec.h"

namespace pagellm {

using ArchBuilder = StatusOr<ArchSpec> (*)(const ModelConfig& config);
struct ArchEntry {
  std::string_view name;  // e.g. "LlamaForCausalLM"
  ArchBuilder build;
};

std::span<const ArchEntry> SupportedArchitectures();
std::vector<std::string> SupportedArchitectureNames();

// Builds the spec of the first entry of config.architectures that is supported.
// No supported entry: Unimplemented, naming the config's and the supported architectures.
StatusOr<ArchSpec> ArchSpecForConfig(const ModelConfig& config);

}  // namespace pagellm

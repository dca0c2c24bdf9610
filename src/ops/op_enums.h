// Small enums shared by the op interface and the backends (no dependencies).
#pragma once

namespace pagellm::ops {

enum class RopeStyle { kNeox, kGptj };  // NeoX: rotate halves; GPT-J: rotate interleaved pairs
enum class Activation { kSilu, kGeluTanh, kGeluExact, kRelu, kGeluQuick };

}  // namespace pagellm::ops

// WriteSafetensors: the writer side, for tests, fixtures and tools.
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/safetensors.h"

namespace pagellm {
namespace {

std::string SafetensorsName(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kFP8E4M3: return "F8_E4M3";
  }
  return "?";
}

}  // namespace

Status WriteSafetensors(const std::string& path,
                        const std::vector<std::pair<std::string, Tensor>>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (!t.device().is_cpu() || !t.is_contiguous())
      return InvalidArgumentError("WriteSafetensors: tensor '" + name + "' must be contiguous host memory");
    h[name] = {{"dtype", SafetensorsName(t.dtype())},
               {"shape", t.shape().ToVector()},
               {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string header = h.dump();
  while ((header.size() + 8) % 8 != 0) header += ' ';  // keeps the data section 8-aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return NotFoundError("cannot create " + path);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(header.size() >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& [name, t] : tensors)
    out.write(static_cast<const char*>(t.data()), static_cast<std::streamsize>(t.nbytes()));
  if (!out) return DataLossError("error writing " + path);
  return OkStatus();
}

}  // namespace pagellm

#include "model/safetensors.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

namespace pagellm {
namespace {

using json = nlohmann::json;

Status Corrupt(const std::string& source, const std::string& msg) {
  return DataLossError(source + ": " + msg);
}

Status TensorError(const std::string& source, const std::string& name, const std::string& msg) {
  return DataLossError(source + ": tensor '" + name + "': " + msg);
}

// Non-negative integer from a JSON number (rejects floats, negatives, bools).
bool AsU64(const json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

Status ParseEntry(const std::string& source, const std::string& name, const json& v,
                  uint64_t data_size, SafetensorsEntry* e) {
  if (!v.is_object()) return TensorError(source, name, "entry is not an object");
  auto dt = v.find("dtype");
  auto sh = v.find("shape");
  auto off = v.find("data_offsets");
  if (dt == v.end() || !dt->is_string()) return TensorError(source, name, "missing string 'dtype'");
  if (sh == v.end() || !sh->is_array()) return TensorError(source, name, "missing array 'shape'");
  if (off == v.end() || !off->is_array() || off->size() != 2)
    return TensorError(source, name, "'data_offsets' must be [begin, end]");
  e->name = name;
  e->dtype_name = dt->get<std::string>();
  e->itemsize = SafetensorsItemSize(e->dtype_name);
  if (e->itemsize == 0) return TensorError(source, name, "unknown dtype '" + e->dtype_name + "'");
  if (sh->size() > static_cast<size_t>(Shape::kMaxDims))
    return TensorError(source, name, "rank " + std::to_string(sh->size()) + " > " +
                                         std::to_string(Shape::kMaxDims) + " not supported");
  uint64_t numel = 1;
  for (const json& d : *sh) {
    uint64_t dim;
    if (!AsU64(d, &dim) || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return TensorError(source, name, "shape has a non-integer or negative dimension");
    e->shape.push_back(static_cast<int64_t>(dim));
    if (dim != 0 && numel > data_size / dim) numel = data_size + 1;  // saturate: too big anyway
    else numel *= dim;
  }
  if (!AsU64((*off)[0], &e->begin) || !AsU64((*off)[1], &e->end))
    return TensorError(source, name, "data_offsets must be non-negative integers");
  if (e->begin > e->end) return TensorError(source, name, "data_offsets begin > end");
  if (e->end > data_size)
    return OutOfRangeError(source + ": tensor '" + name + "': data_offsets end " +
                           std::to_string(e->end) + " beyond the data section (" +
                           std::to_string(data_size) + " bytes; file truncated?)");
  if (numel > data_size || numel * e->itemsize != e->end - e->begin)
    return TensorError(source, name, "byte size " + std::to_string(e->end - e->begin) +
                                         " does not match dtype " + e->dtype_name + " and shape");
  return OkStatus();
}

Status CheckNoOverlap(const std::string& source, std::vector<SafetensorsEntry>* tensors) {
  std::sort(tensors->begin(), tensors->end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t prev_end = 0;
  const std::string* prev = nullptr;
  for (const auto& t : *tensors) {
    if (t.begin == t.end) continue;  // empty tensors occupy no bytes
    if (prev != nullptr && t.begin < prev_end)
      return TensorError(source, t.name, "data overlaps tensor '" + *prev + "'");
    prev_end = t.end;
    prev = &t.name;
  }
  return OkStatus();
}

}  // namespace

size_t SafetensorsItemSize(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2" || d == "F8_E8M0")
    return 1;
  return 0;
}

StatusOr<DType> SafetensorsDType(const std::string& d) {
  if (d == "F32") return DType::kF32;
  if (d == "F16") return DType::kF16;
  if (d == "BF16") return DType::kBF16;
  if (d == "I64") return DType::kI64;
  if (d == "I32") return DType::kI32;
  if (d == "I8") return DType::kI8;
  if (d == "U8" || d == "BOOL") return DType::kU8;
  if (d == "F8_E4M3") return DType::kFP8E4M3;
  if (d == "F64") return DType::kF32;  // narrowed on Get
  return UnimplementedError("safetensors dtype " + d + " is not supported");
}

StatusOr<SafetensorsHeader> ParseSafetensorsHeader(const uint8_t* data, size_t size,
                                                   const std::string& source) {
  if (size < 8) return Corrupt(source, "file too small for a safetensors header (" +
                                           std::to_string(size) + " bytes)");
  uint64_t n = LoadLE(data, 8);
  if (n > kMaxSafetensorsHeaderBytes)
    return Corrupt(source, "header length " + std::to_string(n) + " exceeds 100 MB");
  if (n > size - 8)
    return Corrupt(source, "header length " + std::to_string(n) + " beyond the file size " +
                               std::to_string(size) + " (truncated?)");
  if (n < 2 || data[8] != '{') return Corrupt(source, "header is not a JSON object");
  json j = json::parse(data + 8, data + 8 + n, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(source, "header is not valid JSON");
  SafetensorsHeader h;
  h.data_start = 8 + n;
  uint64_t data_size = size - h.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return Corrupt(source, "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) return Corrupt(source, "__metadata__ value '" + m.key() + "' is not a string");
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    SafetensorsEntry e;
    RETURN_IF_ERROR(ParseEntry(source, it.key(), *it, data_size, &e));
    h.tensors.push_back(std::move(e));
  }
  RETURN_IF_ERROR(CheckNoOverlap(source, &h.tensors));
  return h;
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  return FromMapped(std::move(file));
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::FromMapped(
    std::shared_ptr<MappedFile> file) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  ASSIGN_OR_RETURN(f->header_, ParseSafetensorsHeader(file->data(), file->size(), file->path()));
  f->file_ = std::move(file);
  for (size_t i = 0; i < f->header_.tensors.size(); ++i)
    f->index_.emplace(f->header_.tensors[i].name, i);
  return f;
}

bool SafetensorsFile::Has(const std::string& name) const { return index_.count(name) > 0; }

StatusOr<TensorInfo> SafetensorsFile::Info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return NotFoundError(path() + ": no tensor '" + name + "'");
  const SafetensorsEntry& e = header_.tensors[it->second];
  auto dt = SafetensorsDType(e.dtype_name);
  if (!dt.ok()) return dt.status().WithContext(path() + ": tensor '" + name + "'");
  return TensorInfo{name, *dt, Shape(e.shape)};
}

StatusOr<Tensor> SafetensorsFile::Get(const std::string& name) const {
  ASSIGN_OR_RETURN(TensorInfo info, Info(name));
  const SafetensorsEntry& e = header_.tensors[index_.at(name)];
  const uint8_t* p = file_->data() + header_.data_start + e.begin;
  if (e.dtype_name == "F64") {
    Tensor t = Tensor::EmptyHost(info.shape, DType::kF32);
    for (int64_t i = 0; i < t.numel(); ++i) {
      double d;
      std::memcpy(&d, p + i * 8, 8);
      t.data<float>()[i] = static_cast<float>(d);
    }
    return t;
  }
  if (reinterpret_cast<uintptr_t>(p) % e.itemsize != 0) {
    // Misaligned for its type (legal in the format, rare in practice): copy to aligned memory.
    Tensor t = Tensor::EmptyHost(info.shape, info.dtype);
    if (t.nbytes() > 0) std::memcpy(t.data(), p, t.nbytes());
    return t;
  }
  return Tensor(const_cast<uint8_t*>(p), info.dtype, info.shape);
}

std::vector<std::string> SafetensorsFile::Names() const {
  std::vector<std::string> out;
  out.reserve(header_.tensors.size());
  for (const auto& e : header_.tensors) out.push_back(e.name);
  return out;
}

}  // namespace pagellm

#include "model/pt_checkpoint.h"

#include <cstring>

namespace pagellm {
namespace {

using Kind = PyObject::Kind;

bool MulOverflow(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }
bool AddOverflow(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }

// The state dict inside the unpickled object: the root dict, or root["state_dict"].
const PyObject* FindStateDict(const PyObject* root) {
  if (root->kind != Kind::kDict) return nullptr;
  for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
    const PyObject* k = root->items[i];
    if (k->kind == Kind::kStr && k->s == "state_dict" && root->items[i + 1]->kind == Kind::kDict)
      return root->items[i + 1];
  }
  return root;
}

// Copies a strided view element by element (rank <= 6) into contiguous `dst`.
void StridedCopy(const uint8_t* src, const PickledTensor& t, size_t item, uint8_t* dst) {
  int rank = static_cast<int>(t.size.size());
  int64_t n = 1;
  for (int64_t s : t.size) n *= s;
  std::vector<int64_t> idx(rank, 0);
  for (int64_t e = 0; e < n; ++e) {
    int64_t off = t.offset;
    for (int d = 0; d < rank; ++d) off += idx[d] * t.stride[d];
    std::memcpy(dst + e * item, src + off * item, item);
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < t.size[d]) break;
      idx[d] = 0;
    }
  }
}

bool IsContiguous(const PickledTensor& t) {
  int64_t expect = 1;
  for (size_t d = t.size.size(); d-- > 0;) {
    if (t.size[d] != 1 && t.stride[d] != expect) return false;
    expect *= t.size[d];
  }
  return true;
}

}  // namespace

StatusOr<DType> TorchStorageDType(const std::string& t) {
  if (t == "FloatStorage" || t == "DoubleStorage" || t == "float32" || t == "float64") return DType::kF32;
  if (t == "HalfStorage" || t == "float16") return DType::kF16;
  if (t == "BFloat16Storage" || t == "bfloat16") return DType::kBF16;
  if (t == "LongStorage" || t == "int64") return DType::kI64;
  if (t == "IntStorage" || t == "int32") return DType::kI32;
  if (t == "CharStorage" || t == "int8") return DType::kI8;
  if (t == "ByteStorage" || t == "BoolStorage" || t == "uint8" || t == "bool") return DType::kU8;
  if (t == "float8_e4m3fn") return DType::kFP8E4M3;
  return UnimplementedError("torch element type " + t + " is not supported");
}

StatusOr<std::unique_ptr<PtCheckpoint>> PtCheckpoint::Open(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  return FromMapped(std::move(file));
}

StatusOr<std::unique_ptr<PtCheckpoint>> PtCheckpoint::FromMapped(std::shared_ptr<MappedFile> file) {
  ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::Parse(file));
  std::unique_ptr<PtCheckpoint> c(new PtCheckpoint(std::move(file), std::move(zip)));
  RETURN_IF_ERROR(c->Load());
  return c;
}

Status PtCheckpoint::Load() {
  const std::string& path = file_->path();
  const ZipEntry* pkl = nullptr;
  for (const auto& e : zip_.entries()) {
    size_t slash = e.name.rfind('/');
    if (slash != std::string::npos && e.name.compare(slash, std::string::npos, "/data.pkl") == 0 &&
        e.name.find('/') == slash) {
      pkl = &e;
      prefix_ = e.name.substr(0, slash + 1);
      break;
    }
  }
  if (pkl == nullptr) return DataLossError(path + ": no <archive>/data.pkl in the zip");
  if (const ZipEntry* bo = zip_.Find(prefix_ + "byteorder")) {
    std::string tmp;
    ASSIGN_OR_RETURN(std::string_view order, zip_.Read(*bo, &tmp));
    if (order != "little") return UnimplementedError(path + ": big-endian checkpoint");
  }
  std::string pkl_storage;
  ASSIGN_OR_RETURN(std::string_view pkl_bytes, zip_.Read(*pkl, &pkl_storage));
  ASSIGN_OR_RETURN(PickleResult r, Unpickle(pkl_bytes, path));
  const PyObject* dict = FindStateDict(r.root);
  if (dict == nullptr) return DataLossError(path + ": the pickled object is not a state dict");
  for (size_t i = 0; i + 1 < dict->items.size(); i += 2) {
    const PyObject* k = dict->items[i];
    const PyObject* v = dict->items[i + 1];
    if (k->kind != Kind::kStr) return DataLossError(path + ": state dict key is not a string");
    if (v->kind != Kind::kTensor) continue;  // non-tensor entries (e.g. step counters) are skipped
    RETURN_IF_ERROR(AddTensor(k->s, v->tensor));
  }
  return OkStatus();
}

StatusOr<const uint8_t*> PtCheckpoint::StorageBytes(const PickledStorage& s) {
  const std::string name = prefix_ + "data/" + s.key;
  const ZipEntry* e = zip_.Find(name);
  if (e == nullptr) return DataLossError(file_->path() + ": missing storage " + name);
  int64_t need;
  if (MulOverflow(s.numel, static_cast<int64_t>(s.itemsize), &need) ||
      static_cast<uint64_t>(need) > e->uncompressed_size)
    return DataLossError(file_->path() + ": storage " + name + " is smaller than its " +
                         std::to_string(s.numel) + " elements");
  if (e->method == 0) return file_->data() + e->data_offset;
  auto it = inflated_.find(name);
  if (it == inflated_.end()) {
    auto buf = std::make_unique<std::string>();
    RETURN_IF_ERROR(zip_.Read(*e, buf.get()).status());
    it = inflated_.emplace(name, std::move(buf)).first;
  }
  return reinterpret_cast<const uint8_t*>(it->second->data());
}

Status PtCheckpoint::AddTensor(const std::string& name, const PickledTensor& t) {
  const std::string where = file_->path() + ": tensor '" + name + "'";
  if (t.size.size() > static_cast<size_t>(Shape::kMaxDims)) return DataLossError(where + ": rank too large");
  // Highest element index the view touches must lie inside the storage.
  int64_t last = t.offset, numel = 1;
  if (t.offset < 0) return DataLossError(where + ": negative storage offset");
  for (size_t d = 0; d < t.size.size(); ++d) {
    int64_t span;
    if (t.size[d] < 0 || t.stride[d] < 0) return DataLossError(where + ": negative size or stride");
    if (MulOverflow(numel, t.size[d], &numel) || (t.size[d] > 0 && (MulOverflow(t.size[d] - 1, t.stride[d], &span) ||
                                                                    AddOverflow(last, span, &last))))
      return DataLossError(where + ": size/stride overflow");
  }
  // Storage numel counts its own elements (bytes for an UntypedStorage); the view counts t.itemsize.
  int64_t storage_bytes, end_bytes;
  if (MulOverflow(t.storage.numel, static_cast<int64_t>(t.storage.itemsize), &storage_bytes) ||
      (numel > 0 && (AddOverflow(last, 1, &end_bytes) ||
                     MulOverflow(end_bytes, static_cast<int64_t>(t.itemsize), &end_bytes))))
    return DataLossError(where + ": size overflow");
  if (numel > 0 && end_bytes > storage_bytes)
    return DataLossError(where + ": view exceeds its storage of " + std::to_string(storage_bytes) + " bytes");
  auto storage = StorageBytes(t.storage);
  if (!storage.ok()) return storage.status().WithContext("tensor '" + name + "'");
  if (!tensors_.emplace(name, Entry{t, *storage}).second) return DataLossError(where + ": duplicate name");
  order_.push_back(name);
  return OkStatus();
}

bool PtCheckpoint::Has(const std::string& name) const { return tensors_.count(name) > 0; }

StatusOr<TensorInfo> PtCheckpoint::Info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return NotFoundError(file_->path() + ": no tensor '" + name + "'");
  auto dt = TorchStorageDType(it->second.t.elem_type);
  if (!dt.ok()) return dt.status().WithContext(file_->path() + ": tensor '" + name + "'");
  return TensorInfo{name, *dt, Shape(it->second.t.size)};
}

StatusOr<Tensor> PtCheckpoint::Get(const std::string& name) const {
  ASSIGN_OR_RETURN(TensorInfo info, Info(name));
  const Entry& e = tensors_.at(name);
  const size_t item = e.t.itemsize;
  const uint8_t* first = e.storage + e.t.offset * item;
  bool contiguous = IsContiguous(e.t);
  if (e.t.elem_type == "DoubleStorage" || e.t.elem_type == "float64") {
    std::vector<double> tmp(info.shape.numel());
    StridedCopy(e.storage, e.t, 8, reinterpret_cast<uint8_t*>(tmp.data()));
    Tensor t = Tensor::EmptyHost(info.shape, DType::kF32);
    for (size_t i = 0; i < tmp.size(); ++i) t.data<float>()[i] = static_cast<float>(tmp[i]);
    return t;
  }
  if (contiguous && reinterpret_cast<uintptr_t>(first) % item == 0)
    return Tensor(const_cast<uint8_t*>(first), info.dtype, info.shape);
  Tensor t = Tensor::EmptyHost(info.shape, info.dtype);
  if (contiguous) {
    if (t.nbytes() > 0) std::memcpy(t.data(), first, t.nbytes());
  } else {
    StridedCopy(e.storage, e.t, item, static_cast<uint8_t*>(t.data()));
  }
  return t;
}

}  // namespace pagellm

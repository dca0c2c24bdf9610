// A pickle subset interpreter for torch.save state dicts. It builds plain values and never
// executes anything: the only callables are a fixed allow-list (OrderedDict, torch's tensor
// rebuild functions); any other global is an error naming it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace pagellm {

// torch.*Storage referenced by a persistent id ('storage', type, key, location, numel).
struct PickledStorage {
  std::string type_name;  // "FloatStorage", "BFloat16Storage", ..., "UntypedStorage" (bytes)
  size_t itemsize = 0;
  std::string key;  // archive/data/<key>
  std::string location;
  int64_t numel = 0;  // elements of the storage
};

// A tensor from torch._utils._rebuild_tensor_v2/_v3: a strided view of a storage. v2 takes
// the element type from the storage class; v3 (dtypes newer than the typed storages, e.g.
// float8) from its dtype argument, over an UntypedStorage counted in bytes.
struct PickledTensor {
  PickledStorage storage;
  std::string elem_type;  // a storage class name ("HalfStorage") or a torch dtype ("float8_e4m3fn")
  size_t itemsize = 0;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> size, stride;
};

struct PyObject {
  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kTuple, kList, kDict, kGlobal,
                    kStorage, kTensor };
  Kind kind = Kind::kNone;
  int64_t i = 0;  // bool / int
  double f = 0;
  std::string s;  // str, bytes, or "module.name" for globals
  std::vector<PyObject*> items;  // tuple / list; dict as key, value, key, value...
  PickledStorage storage;
  PickledTensor tensor;
};

// The unpickled object graph. Objects live in `arena`; pointers stay valid while it lives
// (cycles a hostile input may build are harmless).
struct PickleResult {
  std::vector<std::unique_ptr<PyObject>> arena;
  PyObject* root = nullptr;
};

// Runs the pickle program in `data` (protocols 2-5; the opcodes torch.save emits plus the
// common simple ones). `source` names the file in errors.
StatusOr<PickleResult> Unpickle(std::string_view data, const std::string& source);

// Element size for a torch storage class name ("FloatStorage"; "UntypedStorage" is 1) or a
// torch dtype name ("bfloat16"), 0 when unknown.
size_t TorchStorageItemSize(const std::string& type_name);

}  // namespace pagellm

#include "model/pt_checkpoint_pickle.h"

#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "model/checkpoint_file.h"

namespace pagellm {
namespace {

using Kind = PyObject::Kind;

class Unpickler {
 public:
  Unpickler(std::string_view data, const std::string& source) : d_(data), source_(source) {}
  StatusOr<PickleResult> Run();

 private:
  Status Err(const std::string& msg) const {
    return DataLossError(source_ + ": pickle at byte " + std::to_string(pos_) + ": " + msg);
  }
  PyObject* New(Kind k) {
    res_.arena.push_back(std::make_unique<PyObject>());
    res_.arena.back()->kind = k;
    return res_.arena.back().get();
  }
  PyObject* Int(int64_t v) { PyObject* o = New(Kind::kInt); o->i = v; return o; }
  Status Need(size_t n) const { return d_.size() - pos_ >= n ? OkStatus() : Err("truncated"); }
  StatusOr<uint64_t> ReadLE(int n) {
    RETURN_IF_ERROR(Need(n));
    uint64_t v = LoadLE(reinterpret_cast<const uint8_t*>(d_.data()) + pos_, n);
    pos_ += n;
    return v;
  }
  StatusOr<std::string> ReadBytes(uint64_t n) {
    RETURN_IF_ERROR(Need(n));
    std::string s(d_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  StatusOr<std::string> ReadLine() {
    size_t nl = d_.find('\n', pos_);
    if (nl == std::string_view::npos) return Err("unterminated line");
    std::string s(d_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    return s;
  }
  StatusOr<PyObject*> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      return Err("stack underflow");
    PyObject* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  StatusOr<PyObject*> Top() {
    if (stack_.empty()) return Err("stack underflow");
    return stack_.back();
  }
  // Pops everything above the last MARK (and the mark).
  StatusOr<std::vector<PyObject*>> PopMark() {
    if (marks_.empty()) return Err("no MARK");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyObject*> out(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return out;
  }
  Status Step(uint8_t op);
  Status StepData(uint8_t op, bool* handled);
  Status StepContainers(uint8_t op, bool* handled);
  Status StepMemo(uint8_t op, bool* handled);
  Status Global(std::string module, std::string name);
  Status Reduce();
  Status PersistentLoad();
  Status SetItems(PyObject* dict, const std::vector<PyObject*>& kv);
  StatusOr<PyObject*> Call(const std::string& fn, const std::vector<PyObject*>& args);
  StatusOr<PyObject*> RebuildTensor(const std::vector<PyObject*>& a, bool v3);

  std::string_view d_;
  const std::string& source_;
  size_t pos_ = 0;
  std::vector<PyObject*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyObject*> memo_;
  PickleResult res_;
  bool stopped_ = false;
};

bool IsInt(const PyObject* o) { return o->kind == Kind::kInt || o->kind == Kind::kBool; }

StatusOr<std::vector<int64_t>> IntTuple(const PyObject* o, const std::string& what) {
  if (o->kind != Kind::kTuple && o->kind != Kind::kList)
    return DataLossError(what + " is not a tuple");
  std::vector<int64_t> v;
  for (const PyObject* x : o->items) {
    if (!IsInt(x)) return DataLossError(what + " has a non-integer element");
    v.push_back(x->i);
  }
  return v;
}

}  // namespace

size_t TorchStorageItemSize(const std::string& t) {
  if (t == "DoubleStorage" || t == "LongStorage" || t == "float64" || t == "int64" || t == "uint64")
    return 8;
  if (t == "FloatStorage" || t == "IntStorage" || t == "float32" || t == "int32" || t == "uint32") return 4;
  if (t == "HalfStorage" || t == "BFloat16Storage" || t == "ShortStorage" || t == "float16" ||
      t == "bfloat16" || t == "int16" || t == "uint16")
    return 2;
  if (t == "CharStorage" || t == "ByteStorage" || t == "BoolStorage" || t == "UntypedStorage" ||
      t == "int8" || t == "uint8" || t == "bool" || t == "float8_e4m3fn" || t == "float8_e5m2")
    return 1;
  return 0;
}

StatusOr<PickleResult> Unpickle(std::string_view data, const std::string& source) {
  return Unpickler(data, source).Run();
}

StatusOr<PickleResult> Unpickler::Run() {
  while (!stopped_) {
    RETURN_IF_ERROR(Need(1));
    uint8_t op = static_cast<uint8_t>(d_[pos_++]);
    RETURN_IF_ERROR(Step(op));
  }
  return std::move(res_);
}

Status Unpickler::Step(uint8_t op) {
  bool handled = false;
  RETURN_IF_ERROR(StepData(op, &handled));
  if (!handled) RETURN_IF_ERROR(StepContainers(op, &handled));
  if (!handled) RETURN_IF_ERROR(StepMemo(op, &handled));
  if (handled) return OkStatus();
  switch (op) {
    case 0x80: {  // PROTO
      ASSIGN_OR_RETURN(uint64_t v, ReadLE(1));
      if (v > 5) return Err("unsupported pickle protocol " + std::to_string(v));
      return OkStatus();
    }
    case 0x95: return ReadLE(8).status();  // FRAME: framing is irrelevant on a flat buffer
    case '.': {  // STOP
      ASSIGN_OR_RETURN(res_.root, Pop());
      stopped_ = true;
      return OkStatus();
    }
    case 'c': {  // GLOBAL
      ASSIGN_OR_RETURN(std::string module, ReadLine());
      ASSIGN_OR_RETURN(std::string name, ReadLine());
      return Global(module, name);
    }
    case 0x93: {  // STACK_GLOBAL
      ASSIGN_OR_RETURN(PyObject * name, Pop());
      ASSIGN_OR_RETURN(PyObject * module, Pop());
      if (name->kind != Kind::kStr || module->kind != Kind::kStr) return Err("STACK_GLOBAL needs strings");
      return Global(module->s, name->s);
    }
    case 'R': return Reduce();
    case 0x81: return Reduce();  // NEWOBJ (cls, args): same allow-list as REDUCE
    case 'Q': return PersistentLoad();
    case 'b': {  // BUILD: state of a dict/tensor (e.g. state_dict's _metadata) is ignored
      RETURN_IF_ERROR(Pop().status());
      return Top().status();
    }
  }
  return Err("unsupported pickle opcode 0x" + [&] {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", op);
    return std::string(b);
  }());
}

Status Unpickler::StepData(uint8_t op, bool* handled) {
  *handled = true;
  PyObject* o = nullptr;
  switch (op) {
    case 'N': o = New(Kind::kNone); break;
    case 0x88: case 0x89: o = New(Kind::kBool); o->i = op == 0x88; break;
    case 'J': { ASSIGN_OR_RETURN(uint64_t v, ReadLE(4)); o = Int(static_cast<int32_t>(v)); break; }
    case 'K': { ASSIGN_OR_RETURN(uint64_t v, ReadLE(1)); o = Int(v); break; }
    case 'M': { ASSIGN_OR_RETURN(uint64_t v, ReadLE(2)); o = Int(v); break; }
    case 0x8a: case 0x8b: {  // LONG1 / LONG4: little-endian two's complement
      ASSIGN_OR_RETURN(uint64_t n, ReadLE(op == 0x8a ? 1 : 4));
      if (n > 8) return Err("integer wider than 64 bits");
      ASSIGN_OR_RETURN(uint64_t v, ReadLE(static_cast<int>(n)));
      if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~0ull << (8 * n);
      o = Int(static_cast<int64_t>(v));
      break;
    }
    case 'G': {  // BINFLOAT: big-endian double
      RETURN_IF_ERROR(Need(8));
      uint64_t bits = 0;
      for (int k = 0; k < 8; ++k) bits = (bits << 8) | static_cast<uint8_t>(d_[pos_ + k]);
      pos_ += 8;
      o = New(Kind::kFloat);
      std::memcpy(&o->f, &bits, 8);
      break;
    }
    case 'X': case 0x8c: case 0x8d: case 'B': case 'C': case 0x8e: case 'U': case 'T': {
      int width = (op == 0x8c || op == 'C' || op == 'U') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
      ASSIGN_OR_RETURN(uint64_t n, ReadLE(width));
      o = New((op == 'B' || op == 'C' || op == 0x8e) ? Kind::kBytes : Kind::kStr);
      ASSIGN_OR_RETURN(o->s, ReadBytes(n));
      break;
    }
    default: *handled = false; return OkStatus();
  }
  stack_.push_back(o);
  return OkStatus();
}

Status Unpickler::StepContainers(uint8_t op, bool* handled) {
  *handled = true;
  switch (op) {
    case '(': marks_.push_back(stack_.size()); return OkStatus();
    case ')': stack_.push_back(New(Kind::kTuple)); return OkStatus();
    case ']': stack_.push_back(New(Kind::kList)); return OkStatus();
    case '}': stack_.push_back(New(Kind::kDict)); return OkStatus();
    case 't': case 'l': case 'd': {  // TUPLE, LIST, DICT from the mark
      ASSIGN_OR_RETURN(auto items, PopMark());
      PyObject* o = New(op == 't' ? Kind::kTuple : op == 'l' ? Kind::kList : Kind::kDict);
      if (op == 'd') RETURN_IF_ERROR(SetItems(o, items));
      else o->items = std::move(items);
      stack_.push_back(o);
      return OkStatus();
    }
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      PyObject* o = New(Kind::kTuple);
      o->items.resize(op - 0x84);
      for (size_t k = o->items.size(); k-- > 0;) {
        ASSIGN_OR_RETURN(o->items[k], Pop());
      }
      stack_.push_back(o);
      return OkStatus();
    }
    case 'a': case 's': {  // APPEND, SETITEM
      std::vector<PyObject*> kv(op == 's' ? 2 : 1);
      for (size_t k = kv.size(); k-- > 0;) {
        ASSIGN_OR_RETURN(kv[k], Pop());
      }
      ASSIGN_OR_RETURN(PyObject * target, Top());
      if (op == 's') return SetItems(target, kv);
      if (target->kind != Kind::kList) return Err("APPEND to a non-list");
      target->items.push_back(kv[0]);
      return OkStatus();
    }
    case 'e': case 'u': {  // APPENDS, SETITEMS
      ASSIGN_OR_RETURN(auto items, PopMark());
      ASSIGN_OR_RETURN(PyObject * target, Top());
      if (op == 'u') return SetItems(target, items);
      if (target->kind != Kind::kList) return Err("APPENDS to a non-list");
      target->items.insert(target->items.end(), items.begin(), items.end());
      return OkStatus();
    }
  }
  *handled = false;
  return OkStatus();
}

Status Unpickler::StepMemo(uint8_t op, bool* handled) {
  *handled = true;
  switch (op) {
    case 'q': case 'r': case 0x94: {  // BINPUT, LONG_BINPUT, MEMOIZE
      uint64_t key = memo_.size();
      if (op != 0x94) {
        ASSIGN_OR_RETURN(key, ReadLE(op == 'q' ? 1 : 4));
      }
      ASSIGN_OR_RETURN(memo_[key], Top());
      return OkStatus();
    }
    case 'h': case 'j': {  // BINGET, LONG_BINGET
      ASSIGN_OR_RETURN(uint64_t key, ReadLE(op == 'h' ? 1 : 4));
      auto it = memo_.find(key);
      if (it == memo_.end()) return Err("memo key " + std::to_string(key) + " not found");
      stack_.push_back(it->second);
      return OkStatus();
    }
    case '0': return Pop().status();  // POP
    case '1': return PopMark().status();  // POP_MARK
    case '2': {  // DUP
      ASSIGN_OR_RETURN(PyObject * o, Top());
      stack_.push_back(o);
      return OkStatus();
    }
  }
  *handled = false;
  return OkStatus();
}

Status Unpickler::SetItems(PyObject* dict, const std::vector<PyObject*>& kv) {
  if (dict->kind != Kind::kDict) return Err("SETITEM(S) on a non-dict");
  if (kv.size() % 2 != 0) return Err("odd number of items for a dict");
  dict->items.insert(dict->items.end(), kv.begin(), kv.end());
  return OkStatus();
}

Status Unpickler::Global(std::string module, std::string name) {
  std::string full = module + "." + name;
  static const char* const kAllowed[] = {
      "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_tensor_v3", "torch.storage.UntypedStorage",
      "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
      "torch._tensor._rebuild_from_type_v2", "torch.Tensor", "torch.nn.parameter.Parameter",
      "builtins.dict", "__builtin__.dict"};
  // torch.<X>Storage classes and torch dtypes (v3's dtype argument) are data, never called.
  bool ok = module == "torch" && TorchStorageItemSize(name) > 0;
  for (const char* a : kAllowed) ok = ok || full == a;
  if (!ok)
    return UnimplementedError(source_ + ": pickle uses unsupported global '" + full +
                              "' (only torch state dicts are supported; nothing is executed)");
  PyObject* o = New(Kind::kGlobal);
  o->s = full;
  stack_.push_back(o);
  return OkStatus();
}

Status Unpickler::Reduce() {
  ASSIGN_OR_RETURN(PyObject * args, Pop());
  ASSIGN_OR_RETURN(PyObject * fn, Pop());
  if (fn->kind != Kind::kGlobal) return Err("call of a non-global");
  if (args->kind != Kind::kTuple) return Err("call arguments are not a tuple");
  ASSIGN_OR_RETURN(PyObject * r, Call(fn->s, args->items));
  stack_.push_back(r);
  return OkStatus();
}

StatusOr<PyObject*> Unpickler::Call(const std::string& fn, const std::vector<PyObject*>& a) {
  if (fn == "collections.OrderedDict" || fn == "builtins.dict" || fn == "__builtin__.dict") {
    if (!a.empty()) return Err(fn + " with arguments is not supported");
    return New(Kind::kDict);
  }
  if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor" ||
      fn == "torch._utils._rebuild_tensor_v3")
    return RebuildTensor(a, fn == "torch._utils._rebuild_tensor_v3");
  if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
    if (a.empty() || a[0]->kind != Kind::kTensor) return Err(fn + " needs a tensor");
    return a[0];
  }
  if (fn == "torch._tensor._rebuild_from_type_v2") {  // (func, type, args, state)
    if (a.size() < 3 || a[0]->kind != Kind::kGlobal || a[2]->kind != Kind::kTuple)
      return Err(fn + ": bad arguments");
    if (a[0]->s == fn) return Err(fn + ": recursive rebuild");
    return Call(a[0]->s, a[2]->items);
  }
  return Err("'" + fn + "' is not callable");
}

StatusOr<PyObject*> Unpickler::RebuildTensor(const std::vector<PyObject*>& a, bool v3) {
  if (a.size() < (v3 ? 7u : 4u) || a[0]->kind != Kind::kStorage || !IsInt(a[1]))
    return Err("_rebuild_tensor: expected (storage, offset, size, stride, ...)");
  PyObject* o = New(Kind::kTensor);
  o->tensor.storage = a[0]->storage;
  o->tensor.elem_type = a[0]->storage.type_name;
  if (v3) {  // dtype is the 7th argument: a global torch.<dtype>
    if (a[6]->kind != Kind::kGlobal || a[6]->s.rfind("torch.", 0) != 0) return Err("_rebuild_tensor_v3: bad dtype");
    o->tensor.elem_type = a[6]->s.substr(6);
  }
  o->tensor.itemsize = TorchStorageItemSize(o->tensor.elem_type);
  if (o->tensor.itemsize == 0 || o->tensor.elem_type == "UntypedStorage")
    return Err("_rebuild_tensor: unsupported element type '" + o->tensor.elem_type + "'");
  o->tensor.offset = a[1]->i;
  auto size = IntTuple(a[2], "tensor size");
  auto stride = IntTuple(a[3], "tensor stride");
  if (!size.ok() || !stride.ok() || size->size() != stride->size())
    return Err("_rebuild_tensor: bad size/stride");
  o->tensor.size = std::move(*size);
  o->tensor.stride = std::move(*stride);
  return o;
}

Status Unpickler::PersistentLoad() {
  ASSIGN_OR_RETURN(PyObject * pid, Pop());
  const auto& t = pid->items;
  if (pid->kind != Kind::kTuple || t.size() != 5 || t[0]->kind != Kind::kStr || t[0]->s != "storage" ||
      t[1]->kind != Kind::kGlobal || t[2]->kind != Kind::kStr || t[3]->kind != Kind::kStr || !IsInt(t[4]))
    return Err("persistent id is not ('storage', type, key, location, numel)");
  PyObject* o = New(Kind::kStorage);
  std::string type = t[1]->s.substr(t[1]->s.rfind('.') + 1);
  o->storage = PickledStorage{type, TorchStorageItemSize(type), t[2]->s, t[3]->s, t[4]->i};
  if (o->storage.itemsize == 0) return Err("unsupported storage type '" + t[1]->s + "'");
  if (o->storage.numel < 0) return Err("negative storage size");
  stack_.push_back(o);
  return OkStatus();
}

}  // namespace pagellm

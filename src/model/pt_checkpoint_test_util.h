// Test-only builders for torch.save-style archives: a pickle writer emitting the opcodes
// torch.save uses (protocol 2) and a ZIP writer (stored or deflated entries, optional zip64).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pagellm::testing {

class PickleWriter {
 public:
  PickleWriter() { out_ += "\x80\x02"; }
  PickleWriter& Op(char c) { out_ += c; return *this; }
  PickleWriter& Global(const std::string& module, const std::string& name) {
    out_ += 'c' + module + '\n' + name + '\n';
    return *this;
  }
  PickleWriter& Str(const std::string& s) {
    out_ += 'X';
    Le(s.size(), 4);
    out_ += s;
    return *this;
  }
  PickleWriter& Int(int64_t v) {
    if (v >= 0 && v < 256) { out_ += 'K'; Le(v, 1); }
    else if (v >= INT32_MIN && v <= INT32_MAX) { out_ += 'J'; Le(static_cast<uint32_t>(v), 4); }
    else { out_ += '\x8a'; out_ += '\x08'; Le(static_cast<uint64_t>(v), 8); }
    return *this;
  }
  PickleWriter& IntTuple(const std::vector<int64_t>& v) {
    out_ += '(';
    for (int64_t x : v) Int(x);
    out_ += 't';
    return *this;
  }
  PickleWriter& Put(uint8_t k) { out_ += 'q'; out_ += static_cast<char>(k); return *this; }
  PickleWriter& Get(uint8_t k) { out_ += 'h'; out_ += static_cast<char>(k); return *this; }
  // _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())
  PickleWriter& Tensor(const std::string& storage_type, const std::string& key, int64_t numel,
                       int64_t offset, const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
    Global("torch._utils", "_rebuild_tensor_v2");
    out_ += '(';
    out_ += '(';
    Str("storage");
    Global("torch", storage_type);
    Str(key).Str("cpu").Int(numel);
    out_ += 't';
    out_ += 'Q';
    Int(offset).IntTuple(size).IntTuple(stride);
    out_ += '\x89';
    Global("collections", "OrderedDict");
    out_ += ")R";
    out_ += "tR";
    return *this;
  }
  std::string Finish() { return out_ + "."; }
  std::string& raw() { return out_; }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string out_;
};

class ZipWriter {
 public:
  // Data of stored entries starts 64-byte aligned, as torch.save does (via extra-field padding).
  void Add(const std::string& name, const std::string& data, bool deflate = false) {
    std::string payload = deflate ? Deflate(data) : data;
    uint32_t crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), data.size());
    size_t offset = out_.size();
    size_t pad = (64 - (offset + 30 + name.size() + 4) % 64) % 64;
    std::string extra;
    Le(&extra, 0xcafe, 2);
    Le(&extra, pad, 2);
    extra.append(pad, 'Z');
    Header(&out_, 0x04034b50, deflate, crc, payload.size(), data.size(), name, extra, 0, false);
    out_ += payload;
    Header(&central_, 0x02014b50, deflate, crc, payload.size(), data.size(), name, "", offset, true);
    ++count_;
  }
  std::string Finish(bool zip64 = false) {
    std::string out = out_;
    uint64_t cd_offset = out.size();
    out += central_;
    if (zip64) {
      uint64_t rec = out.size();
      Le(&out, 0x06064b50, 4); Le(&out, 44, 8); Le(&out, 45, 2); Le(&out, 45, 2);
      Le(&out, 0, 4); Le(&out, 0, 4); Le(&out, count_, 8); Le(&out, count_, 8);
      Le(&out, central_.size(), 8); Le(&out, cd_offset, 8);
      Le(&out, 0x07064b50, 4); Le(&out, 0, 4); Le(&out, rec, 8); Le(&out, 1, 4);
    }
    Le(&out, 0x06054b50, 4); Le(&out, 0, 2); Le(&out, 0, 2);
    Le(&out, zip64 ? 0xffff : count_, 2); Le(&out, zip64 ? 0xffff : count_, 2);
    Le(&out, zip64 ? 0xffffffffu : central_.size(), 4);
    Le(&out, zip64 ? 0xffffffffu : cd_offset, 4);
    Le(&out, 0, 2);
    return out;
  }

 private:
  static void Le(std::string* s, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) *s += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  static std::string Deflate(const std::string& in) {
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, in.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = in.size();
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = out.size();
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
  }
  static void Header(std::string* s, uint32_t sig, bool deflate, uint32_t crc, uint64_t csize,
                     uint64_t usize, const std::string& name, const std::string& extra,
                     uint64_t offset, bool central) {
    Le(s, sig, 4);
    if (central) Le(s, 20, 2);
    Le(s, 20, 2); Le(s, 0, 2); Le(s, deflate ? 8 : 0, 2); Le(s, 0, 2); Le(s, 0, 2);
    Le(s, crc, 4); Le(s, csize, 4); Le(s, usize, 4);
    Le(s, name.size(), 2); Le(s, extra.size(), 2);
    if (central) { Le(s, 0, 2); Le(s, 0, 2); Le(s, 0, 2); Le(s, 0, 4); Le(s, offset, 4); }
    *s += name;
    *s += extra;
  }
  std::string out_, central_;
  uint64_t count_ = 0;
};

// A state dict {name: float32 tensor of `values`} as torch.save would write it.
inline std::string MakePtArchive(const std::vector<std::pair<std::string, std::vector<float>>>& tensors) {
  PickleWriter p;
  p.Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
  ZipWriter z;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, v] = tensors[i];
    p.Str(name).Tensor("FloatStorage", std::to_string(i), v.size(), 0,
                       {static_cast<int64_t>(v.size())}, {1});
  }
  p.Op('u');
  z.Add("archive/data.pkl", p.Finish());
  z.Add("archive/byteorder", "little");
  for (size_t i = 0; i < tensors.size(); ++i)
    z.Add("archive/data/" + std::to_string(i),
          std::string(reinterpret_cast<const char*>(tensors[i].second.data()), tensors[i].second.size() * 4));
  z.Add("archive/version", "3\n");
  return z.Finish();
}

}  // namespace pagellm::testing

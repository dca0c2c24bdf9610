#include "model/pt_checkpoint_zip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace pagellm {
namespace {

constexpr uint32_t kEocdSig = 0x06054b50, kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50, kCentralSig = 0x02014b50, kLocalSig = 0x04034b50;

struct Directory {
  uint64_t count = 0, offset = 0, size = 0;
};

Status Bad(const std::string& path, const std::string& msg) {
  return DataLossError(path + ": corrupt zip: " + msg);
}

StatusOr<Directory> FindDirectory(const MappedFile& f) {
  const uint8_t* d = f.data();
  size_t n = f.size();
  if (n < 22 || d[0] != 'P' || d[1] != 'K')
    return InvalidArgumentError(f.path() + ": not a zip archive (legacy torch.save files are not supported)");
  size_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (size_t pos = n - 22 + 1; pos-- > lowest;) {
    if (LoadLE(d + pos, 4) != kEocdSig) continue;
    Directory dir{LoadLE(d + pos + 10, 2), LoadLE(d + pos + 16, 4), LoadLE(d + pos + 12, 4)};
    bool zip64 = dir.count == 0xffff || dir.offset == 0xffffffffu || dir.size == 0xffffffffu;
    if (zip64 && pos >= 20 && LoadLE(d + pos - 20, 4) == kZip64LocatorSig) {
      uint64_t rec = LoadLE(d + pos - 20 + 8, 8);
      if (rec > n || n - rec < 56 || LoadLE(d + rec, 4) != kZip64EocdSig)
        return Bad(f.path(), "bad zip64 end-of-directory record");
      dir = Directory{LoadLE(d + rec + 32, 8), LoadLE(d + rec + 48, 8), LoadLE(d + rec + 40, 8)};
    }
    if (dir.offset > n || dir.size > n - dir.offset) return Bad(f.path(), "central directory out of range");
    return dir;
  }
  return Bad(f.path(), "no end-of-central-directory record");
}

// Applies the zip64 extended-information extra field (id 1) to fields saturated at 0xffffffff.
void ApplyZip64Extra(const uint8_t* extra, size_t len, ZipEntry* e, uint64_t* local) {
  size_t p = 0;
  while (p + 4 <= len) {
    uint16_t id = LoadLE(extra + p, 2), sz = LoadLE(extra + p + 2, 2);
    if (p + 4 + sz > len) return;
    if (id == 1) {
      size_t q = p + 4, end = p + 4 + sz;
      auto take = [&](uint64_t* v) {
        if (*v == 0xffffffffu && q + 8 <= end) { *v = LoadLE(extra + q, 8); q += 8; }
      };
      take(&e->uncompressed_size);
      take(&e->compressed_size);
      take(local);
      return;
    }
    p += 4 + sz;
  }
}

}  // namespace

StatusOr<ZipArchive> ZipArchive::Parse(std::shared_ptr<MappedFile> file) {
  ASSIGN_OR_RETURN(Directory dir, FindDirectory(*file));
  const uint8_t* d = file->data();
  const size_t n = file->size();
  ZipArchive z;
  size_t p = dir.offset, end = dir.offset + dir.size;
  for (uint64_t i = 0; i < dir.count; ++i) {
    if (end - p < 46 || LoadLE(d + p, 4) != kCentralSig) return Bad(file->path(), "bad central directory entry");
    ZipEntry e;
    uint16_t flags = LoadLE(d + p + 8, 2);
    e.method = LoadLE(d + p + 10, 2);
    e.crc32 = LoadLE(d + p + 16, 4);
    e.compressed_size = LoadLE(d + p + 20, 4);
    e.uncompressed_size = LoadLE(d + p + 24, 4);
    size_t name_len = LoadLE(d + p + 28, 2), extra_len = LoadLE(d + p + 30, 2),
           comment_len = LoadLE(d + p + 32, 2);
    uint64_t local = LoadLE(d + p + 42, 4);
    if (end - p - 46 < name_len + extra_len + comment_len) return Bad(file->path(), "central entry overruns");
    e.name.assign(reinterpret_cast<const char*>(d + p + 46), name_len);
    ApplyZip64Extra(d + p + 46 + name_len, extra_len, &e, &local);
    p += 46 + name_len + extra_len + comment_len;
    if (flags & 1) return UnimplementedError(file->path() + ": encrypted zip entry " + e.name);
    if (local > n || n - local < 30 || LoadLE(d + local, 4) != kLocalSig)
      return Bad(file->path(), "bad local header for " + e.name);
    uint64_t data = local + 30 + LoadLE(d + local + 26, 2) + LoadLE(d + local + 28, 2);
    if (data > n || e.compressed_size > n - data) return Bad(file->path(), "data of " + e.name + " beyond the file");
    if (e.method == 0 && e.compressed_size != e.uncompressed_size)
      return Bad(file->path(), "stored entry " + e.name + " has mismatched sizes");
    e.data_offset = data;
    z.by_name_.emplace(e.name, z.entries_.size());
    z.entries_.push_back(std::move(e));
  }
  z.file_ = std::move(file);
  return z;
}

const ZipEntry* ZipArchive::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

StatusOr<std::string_view> ZipArchive::Read(const ZipEntry& e, std::string* storage) const {
  const char* src = reinterpret_cast<const char*>(file_->data() + e.data_offset);
  if (e.method == 0) return std::string_view(src, e.compressed_size);
  if (e.method != 8)
    return UnimplementedError(path() + ": entry " + e.name + " uses zip method " + std::to_string(e.method));
  // The declared size is outside input: bound it by deflate's best ratio (~1032:1).
  if (e.uncompressed_size / 1032 > e.compressed_size + 1)
    return Bad(path(), "implausible size for deflated entry " + e.name);
  storage->assign(e.uncompressed_size, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return InternalError("inflateInit2 failed");
  uint64_t in_left = e.compressed_size, out_left = e.uncompressed_size;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src));
  zs.next_out = reinterpret_cast<Bytef*>(storage->data());
  int rc = Z_OK;
  while (rc == Z_OK) {
    uInt in_chunk = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
    uInt out_chunk = static_cast<uInt>(std::min<uint64_t>(out_left, 1u << 30));
    zs.avail_in = in_chunk;
    zs.avail_out = out_chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    in_left -= in_chunk - zs.avail_in;
    out_left -= out_chunk - zs.avail_out;
    if (rc == Z_OK && zs.avail_in == in_chunk && zs.avail_out == out_chunk) break;  // no progress
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || out_left != 0) return Bad(path(), "cannot inflate " + e.name);
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(storage->data()), 0);
  for (uint64_t off = 0; off < storage->size(); off += 1u << 30) {
    uInt len = static_cast<uInt>(std::min<uint64_t>(storage->size() - off, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(storage->data() + off), len);
  }
  if (crc != e.crc32) return Bad(path(), "CRC mismatch in " + e.name);
  return std::string_view(*storage);
}

}  // namespace pagellm

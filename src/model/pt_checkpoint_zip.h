// Minimal ZIP reader for torch.save archives: central directory (zip64 aware), stored entries
// as zero-copy views, deflated entries inflated with zlib. No encryption, no multi-disk.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/checkpoint_file.h"

namespace pagellm {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t data_offset = 0;  // of the (compressed) bytes in the file, past the local header
};

class ZipArchive {
 public:
  // Reads the central directory and checks every local header and data range against the file.
  static StatusOr<ZipArchive> Parse(std::shared_ptr<MappedFile> file);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* Find(std::string_view name) const;
  // The entry's bytes: a view into the file when stored, else inflated into `*storage` (which
  // must outlive the view). CRC is checked for inflated entries.
  StatusOr<std::string_view> Read(const ZipEntry& e, std::string* storage) const;
  const std::string& path() const { return file_->path(); }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> by_name_;  // first entry of each name
};

}  // namespace pagellm

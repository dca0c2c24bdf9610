// One file from the hub into the cache: resumable download, blob naming by ETag, snapshot link.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "base/file.h"
#include "model/hub_internal.h"

namespace pagellm::hub_internal {
namespace {

namespace fs = std::filesystem;

std::string HexHash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// huggingface_hub names blobs by the (LFS sha256 or git sha1) ETag; keep only safe characters.
std::string BlobName(const HttpResponse& r, const std::string& fallback) {
  std::string e = r.Header("x-linked-etag");
  if (e.empty()) e = r.Header("etag");
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  std::string out;
  for (char c : e)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') out += c;
  return out.empty() ? fallback : out;
}

// Total size of the file from the final response, or 0 when unknown.
uint64_t ExpectedSize(const HttpResponse& r) {
  if (r.hops.empty()) return 0;
  const auto& last = r.hops.back();
  auto cr = last.find("content-range");  // "bytes 100-199/200"
  if (cr != last.end()) {
    size_t slash = cr->second.rfind('/');
    if (slash != std::string::npos) return std::strtoull(cr->second.c_str() + slash + 1, nullptr, 10);
  }
  auto cl = last.find("content-length");
  return cl != last.end() ? std::strtoull(cl->second.c_str(), nullptr, 10) : 0;
}

std::function<void(uint64_t, uint64_t)> ProgressBar(const HubOptions& o, const std::string& file) {
  bool on = o.progress == HubOptions::Progress::kOn ||
            (o.progress == HubOptions::Progress::kAuto && ::isatty(2));
  if (!on) return nullptr;
  auto start = std::chrono::steady_clock::now();
  return [file, start](uint64_t done, uint64_t total) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double mb = done / 1e6, rate = s > 0 ? mb / s : 0;
    if (total > 0)
      std::fprintf(stderr, "\r%s: %3d%% %.1f/%.1f MB %.1f MB/s ", file.c_str(),
                   static_cast<int>(100.0 * done / total), mb, total / 1e6, rate);
    else
      std::fprintf(stderr, "\r%s: %.1f MB %.1f MB/s ", file.c_str(), mb, rate);
    if (total > 0 && done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

uint64_t FileSize(const std::string& p) {
  std::error_code ec;
  uint64_t n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// Links snapshots/<sha>/<file> to the blob (relative, as huggingface_hub does); copies where
// the file system has no symlinks.
Status LinkSnapshot(const fs::path& blob, const fs::path& target) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  fs::remove(target, ec);
  fs::create_symlink(fs::relative(blob, target.parent_path()), target, ec);
  if (!ec) return OkStatus();
  fs::copy_file(blob, target, fs::copy_options::overwrite_existing, ec);
  if (ec) return UnavailableError("cannot create " + target.string() + ": " + ec.message());
  return OkStatus();
}

// An exclusive advisory lock on a file (released by the destructor), so that processes sharing
// a cache (tensor-parallel ranks, parallel jobs) never write the same .incomplete file at once.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing drops the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

std::vector<std::string> AuthHeaders(const HubOptions& o) {
  if (o.token.empty()) return {};
  return {"Authorization: Bearer " + o.token};
}

Status HttpError(long status, const std::string& repo, const std::string& what, const std::string& body) {
  std::string msg = "Hugging Face repo '" + repo + "', " + what + ": HTTP " + std::to_string(status);
  if (status == 401)
    return UnauthenticatedError(msg + " (repo not found, or private/gated: set HF_TOKEN)");
  if (status == 403) return PermissionDeniedError(msg + " (access denied: gated repo? accept its terms)");
  if (status == 404) return NotFoundError(msg + " (not found)");
  if (status == 429 || status >= 500) return UnavailableError(msg + " (try again later)");
  return UnavailableError(msg + ": " + body.substr(0, 200));
}

Status DownloadFile(const HubOptions& o, const std::string& repo, const std::string& repo_dir,
                    const std::string& sha, const std::string& file) {
  const fs::path target = fs::path(repo_dir) / "snapshots" / sha / file;
  std::error_code ec;
  if (fs::exists(target, ec)) return OkStatus();  // follows the link: the blob is there
  const fs::path blobs = fs::path(repo_dir) / "blobs";
  fs::create_directories(blobs, ec);
  if (ec) return UnavailableError("cannot create " + blobs.string() + ": " + ec.message());
  const std::string id = HexHash(sha + "/" + file);
  const std::string tmp = (blobs / (id + ".incomplete")).string();
  FileLock lock((blobs / (id + ".lock")).string());
  if (fs::exists(target, ec)) return OkStatus();  // another process finished it while we waited
  HttpRequest req;
  req.url = o.endpoint + "/" + repo + "/resolve/" + sha + "/" + UrlEscape(file);
  req.headers = AuthHeaders(o);
  req.body_path = tmp;
  req.resume_from = FileSize(tmp);
  req.progress = ProgressBar(o, file);
  auto resp = HttpGet(req);
  if ((!resp.ok() && resp.status().code() == StatusCode::kFailedPrecondition) ||
      (resp.ok() && resp->status == 416)) {
    req.resume_from = 0;  // the server cannot continue the partial file: start over
    resp = HttpGet(req);
  }
  if (!resp.ok()) return resp.status().WithContext("downloading '" + file + "' of " + repo);
  if (resp->status != 200 && resp->status != 206) {
    if (FileSize(tmp) == 0) fs::remove(tmp, ec);
    return HttpError(resp->status, repo, "file '" + file + "'", resp->body);
  }
  uint64_t expected = ExpectedSize(*resp), got = FileSize(tmp);
  if (expected != 0 && got != expected)
    return DataLossError("downloading '" + file + "' of " + repo + ": got " + std::to_string(got) +
                         " of " + std::to_string(expected) + " bytes");
  const fs::path blob = blobs / BlobName(*resp, id);
  fs::rename(tmp, blob, ec);
  if (ec) return UnavailableError("cannot rename " + tmp + ": " + ec.message());
  RETURN_IF_ERROR(LinkSnapshot(blob, target));
  fs::remove(blobs / (id + ".lock"), ec);
  return OkStatus();
}

}  // namespace pagellm::hub_internal

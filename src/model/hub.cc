#include "model/hub.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/logging.h"
#include "model/hub_internal.h"

namespace pagellm {
namespace {

namespace fs = std::filesystem;
using hub_internal::AuthHeaders;
using hub_internal::HttpError;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool Truthy(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "1" || v == "on" || v == "yes" || v == "true";
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

bool IsCommitHash(const std::string& s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(c); });
}

// The commit a cached revision points at, or "" when the cache does not know it.
std::string CachedCommit(const std::string& repo_dir, const std::string& revision) {
  if (IsCommitHash(revision) && IsDirectory(JoinPath(repo_dir, "snapshots/" + revision))) return revision;
  auto ref = ReadFileToString(JoinPath(repo_dir, "refs/" + revision));
  if (!ref.ok()) return "";
  std::string sha = Trim(*ref);
  return IsCommitHash(sha) && IsDirectory(JoinPath(repo_dir, "snapshots/" + sha)) ? sha : "";
}

struct RepoInfo {
  std::string sha;
  std::vector<std::string> siblings;
};

StatusOr<RepoInfo> FetchRepoInfo(const HubOptions& o, const std::string& repo) {
  HttpRequest req;
  req.url = o.endpoint + "/api/models/" + repo + "/revision/" + UrlEscape(o.revision);
  req.headers = AuthHeaders(o);
  req.timeout_s = 60;
  ASSIGN_OR_RETURN(HttpResponse resp, HttpGet(req));
  if (resp.status != 200)
    return HttpError(resp.status, repo, "revision '" + o.revision + "'", resp.body);
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("sha") || !j["sha"].is_string())
    return DataLossError(req.url + ": unexpected reply (no \"sha\")");
  RepoInfo info{j["sha"].get<std::string>(), {}};
  if (!IsCommitHash(info.sha)) return DataLossError(req.url + ": bad commit hash '" + info.sha + "'");
  if (j.contains("siblings") && j["siblings"].is_array()) {
    for (const auto& s : j["siblings"])
      if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string())
        info.siblings.push_back(s["rfilename"].get<std::string>());
  }
  return info;
}

Status WriteRef(const std::string& repo_dir, const std::string& revision, const std::string& sha) {
  if (revision == sha) return OkStatus();
  fs::path ref = fs::path(repo_dir) / "refs" / revision;
  std::error_code ec;
  fs::create_directories(ref.parent_path(), ec);
  std::string tmp = ref.string() + ".tmp" + std::to_string(::getpid());
  RETURN_IF_ERROR(WriteStringToFile(tmp, sha));
  fs::rename(tmp, ref, ec);
  if (ec) return UnavailableError("cannot write " + ref.string() + ": " + ec.message());
  return OkStatus();
}

StatusOr<std::string> FromCache(const std::string& repo, const std::string& repo_dir,
                                const HubOptions& o, const std::string& why) {
  std::string sha = CachedCommit(repo_dir, o.revision);
  if (sha.empty())
    return NotFoundError("model '" + repo + "' (revision " + o.revision + ") is not in the cache " +
                         o.cache_dir + " and " + why);
  return JoinPath(repo_dir, "snapshots/" + sha);
}

bool IsWeightFile(const std::string& f) {
  auto ends = [&](const std::string& x) {
    return f.size() >= x.size() && f.compare(f.size() - x.size(), x.size(), x) == 0;
  };
  return ends(".safetensors") || ends(".bin");
}

// Shard names an index file's weight_map points at.
StatusOr<std::set<std::string>> IndexShards(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    return DataLossError(path + ": no weight_map");
  std::set<std::string> out;
  for (const auto& v : j["weight_map"])
    if (v.is_string()) out.insert(v.get<std::string>());
  return out;
}

}  // namespace

HubOptions HubOptions::FromEnv() {
  HubOptions o;
  std::string home = Env("HOME"), hf_home = Env("HF_HOME"), xdg = Env("XDG_CACHE_HOME");
  if (hf_home.empty()) hf_home = JoinPath(xdg.empty() ? JoinPath(home, ".cache") : xdg, "huggingface");
  o.cache_dir = Env("HF_HUB_CACHE");
  if (o.cache_dir.empty()) o.cache_dir = Env("HUGGINGFACE_HUB_CACHE");
  if (o.cache_dir.empty()) o.cache_dir = JoinPath(hf_home, "hub");
  if (!Env("HF_ENDPOINT").empty()) o.endpoint = Env("HF_ENDPOINT");
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  o.token = Env("HF_TOKEN");
  if (o.token.empty()) o.token = Env("HUGGING_FACE_HUB_TOKEN");
  if (o.token.empty()) {
    std::string path = Env("HF_TOKEN_PATH");
    auto t = ReadFileToString(path.empty() ? JoinPath(hf_home, "token") : path);
    if (t.ok()) o.token = Trim(*t);
  }
  o.offline = Truthy(Env("HF_HUB_OFFLINE"));
  if (Truthy(Env("HF_HUB_DISABLE_PROGRESS_BARS"))) o.progress = Progress::kOff;
  return o;
}

bool IsRepoId(const std::string& s) {
  if (s.empty() || s.size() > 96 + 97) return false;
  size_t slash = s.find('/');
  if (slash != std::string::npos && s.find('/', slash + 1) != std::string::npos) return false;
  auto part_ok = [](const std::string& p) {
    if (p.empty() || p.size() > 96 || p.find("--") != std::string::npos || p.find("..") != std::string::npos)
      return false;
    if (p.front() == '-' || p.front() == '.' || p.back() == '-' || p.back() == '.') return false;
    return std::all_of(p.begin(), p.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
  };
  if (slash == std::string::npos) return part_ok(s);
  return part_ok(s.substr(0, slash)) && part_ok(s.substr(slash + 1));
}

std::string RepoCacheDir(const std::string& cache_dir, const std::string& repo_id) {
  std::string name = "models--" + repo_id;
  for (size_t p = name.find('/'); p != std::string::npos; p = name.find('/', p)) name.replace(p, 1, "--");
  return JoinPath(cache_dir, name);
}

std::vector<std::string> SelectRepoFiles(const std::vector<std::string>& siblings, LoadFormat format) {
  static const std::set<std::string> kAlways = {
      "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
      "tokenizer.model", "special_tokens_map.json", "vocab.json", "merges.txt", "added_tokens.json",
      "chat_template.json", "chat_template.jinja"};
  auto ends = [](const std::string& s, const std::string& x) {
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  std::vector<std::string> out, st, bin;
  for (const auto& f : siblings) {
    if (f.find('/') != std::string::npos) continue;  // top level only (no onnx/, original/, ...)
    if (kAlways.count(f)) out.push_back(f);
    if (ends(f, ".safetensors") || f == "model.safetensors.index.json") st.push_back(f);
    if ((f.rfind("pytorch_model", 0) == 0 && ends(f, ".bin")) || f == "pytorch_model.bin.index.json")
      bin.push_back(f);
  }
  bool has_st = std::any_of(st.begin(), st.end(), [&](const std::string& f) { return ends(f, ".safetensors"); });
  if (format == LoadFormat::kDummy) return out;
  std::vector<std::string> weights =
      (format == LoadFormat::kPt || (format == LoadFormat::kAuto && !has_st)) ? bin : st;
  // Mistral repos ship consolidated.safetensors beside the HF shards: the same weights again.
  bool others = std::any_of(weights.begin(), weights.end(), [](const std::string& f) {
    return f.rfind("consolidated", 0) != 0 && f.find(".index.json") == std::string::npos;
  });
  for (const auto& f : weights)
    if (!others || f.rfind("consolidated", 0) != 0) out.push_back(f);
  return out;
}

StatusOr<std::string> ResolveModelPath(const std::string& model, const HubOptions& o) {
  if (IsDirectory(model)) return model;
  if (!IsRepoId(model) || model[0] == '.' || FileExists(model))
    return NotFoundError("model '" + model + "' is neither a local directory nor a Hugging Face repo id");
  const std::string repo_dir = RepoCacheDir(o.cache_dir, model);
  if (o.offline) return FromCache(model, repo_dir, o, "HF_HUB_OFFLINE is set");
  auto info = FetchRepoInfo(o, model);
  if (!info.ok()) {
    if (info.status().code() != StatusCode::kUnavailable) return info.status();
    LOG_WARN("cannot reach {} ({}); trying the local cache", o.endpoint, info.status().message());
    return FromCache(model, repo_dir, o, "the hub is unreachable: " + info.status().message());
  }
  const std::vector<std::string> files = SelectRepoFiles(info->siblings, o.load_format);
  LOG_INFO("{}@{}: {} files (cache {})", model, info->sha.substr(0, 8), files.size(), repo_dir);
  // Index files first: their weight_map says which shards are needed.
  std::vector<std::string> ordered = files;
  std::stable_partition(ordered.begin(), ordered.end(),
                        [](const std::string& f) { return f.find(".index.json") != std::string::npos; });
  std::set<std::string> shards;
  bool indexed = false;
  for (const std::string& f : ordered) {
    if (indexed && IsWeightFile(f) && shards.count(f) == 0) continue;  // not in the index
    RETURN_IF_ERROR(hub_internal::DownloadFile(o, model, repo_dir, info->sha, f));
    if (f.find(".index.json") != std::string::npos) {
      ASSIGN_OR_RETURN(std::set<std::string> listed, IndexShards(JoinPath(repo_dir, "snapshots/" + info->sha + "/" + f)));
      shards.insert(listed.begin(), listed.end());
      indexed = true;
    }
  }
  RETURN_IF_ERROR(WriteRef(repo_dir, o.revision, info->sha));
  std::string snapshot = JoinPath(repo_dir, "snapshots/" + info->sha);
  std::error_code ec;
  fs::create_directories(snapshot, ec);
  return snapshot;
}

}  // namespace pagellm

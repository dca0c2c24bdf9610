// Hugging Face hub: turns a model argument into a local directory. A local directory is used as
// is; otherwise the argument is a repo id ("org/name") whose files are downloaded into the HF
// cache layout shared with huggingface_hub:
//   <cache>/models--org--name/refs/<revision>        the commit hash
//   <cache>/models--org--name/blobs/<etag>           file contents
//   <cache>/models--org--name/snapshots/<hash>/<file> -> ../../blobs/<etag>
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "model/weight_source.h"

namespace pagellm {

struct HubOptions {
  std::string revision = "main";
  std::string cache_dir;                            // see FromEnv
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT
  std::string token;                                // HF_TOKEN or the token file; sent as Bearer
  bool offline = false;                             // HF_HUB_OFFLINE=1: cache only
  enum class Progress { kAuto, kOn, kOff };
  Progress progress = Progress::kAuto;  // kAuto: a progress bar only when stderr is a TTY
  LoadFormat load_format = LoadFormat::kAuto;  // which weight files to fetch (kDummy: none)

  // Defaults from the environment: cache dir from HF_HUB_CACHE, else $HF_HOME/hub, else
  // $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; token from HF_TOKEN, else
  // the file $HF_TOKEN_PATH or $HF_HOME/token; HF_HUB_DISABLE_PROGRESS_BARS=1 turns bars off.
  static HubOptions FromEnv();
};

// "name" or "org/name" with HF's allowed characters.
bool IsRepoId(const std::string& s);

// A local directory as is; else a repo id resolved (downloading what is missing) to its
// snapshot directory. Errors: NotFound (no such directory/repo/revision, or not cached while
// offline), Unauthenticated (401: set HF_TOKEN), PermissionDenied (403: gated), Unavailable
// (network, with nothing cached). All name the repo.
StatusOr<std::string> ResolveModelPath(const std::string& model, const HubOptions& options);

// The files of a repo listing worth downloading for serving: configs, tokenizer files, and the
// weights in `format` (safetensors + index when any exist, else pytorch_model*.bin + index).
std::vector<std::string> SelectRepoFiles(const std::vector<std::string>& siblings, LoadFormat format);

// <cache>/models--org--name
std::string RepoCacheDir(const std::string& cache_dir, const std::string& repo_id);

}  // namespace pagellm

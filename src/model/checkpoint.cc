#include "model/checkpoint.h"

#include <dirent.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "model/pt_checkpoint.h"
#include "model/safetensors.h"

namespace pagellm {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) out.emplace_back(e->d_name);
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

struct CheckpointFiles {
  std::vector<std::string> files;  // joined with the model directory
  std::string index_path;          // empty without an index
  std::vector<std::pair<std::string, std::string>> weight_map;  // tensor -> file name
};

// Shard file names from an HF index file ({"weight_map": {tensor: file}}), sorted, unique.
StatusOr<std::vector<std::string>> ReadIndex(const std::string& path, CheckpointFiles* cf) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError(path + ": not a JSON object");
  auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) return DataLossError(path + ": missing object 'weight_map'");
  std::set<std::string> files;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string()) return DataLossError(path + ": weight_map['" + it.key() + "'] is not a string");
    std::string f = it->get<std::string>();
    // The index is outside input: never let it point outside the model directory.
    if (f.empty() || f[0] == '/' || f.find("..") != std::string::npos)
      return DataLossError(path + ": weight_map['" + it.key() + "'] has a bad file name '" + f + "'");
    files.insert(f);
    cf->weight_map.emplace_back(it.key(), f);
  }
  if (files.empty()) return DataLossError(path + ": empty weight_map");
  return std::vector<std::string>(files.begin(), files.end());
}

// Files with `suffix` in the directory (no index). Mistral's consolidated.* duplicates the HF
// shards, so it is used only when nothing else exists.
std::vector<std::string> Glob(const std::vector<std::string>& entries, const std::string& prefix,
                              const std::string& suffix) {
  std::vector<std::string> hits, consolidated;
  for (const auto& e : entries) {
    if (!EndsWith(e, suffix) || e.rfind(prefix, 0) != 0) continue;
    (e.rfind("consolidated", 0) == 0 ? consolidated : hits).push_back(e);
  }
  return hits.empty() ? consolidated : hits;
}

StatusOr<CheckpointFiles> ListFormat(const std::string& dir, const std::vector<std::string>& entries,
                                     bool st) {
  const std::string index = st ? "model.safetensors.index.json" : "pytorch_model.bin.index.json";
  CheckpointFiles cf;
  std::vector<std::string> names;
  if (FileExists(JoinPath(dir, index))) {
    cf.index_path = JoinPath(dir, index);
    ASSIGN_OR_RETURN(names, ReadIndex(cf.index_path, &cf));
  } else {
    names = st ? Glob(entries, "", ".safetensors") : Glob(entries, "pytorch_model", ".bin");
  }
  for (const auto& n : names) cf.files.push_back(JoinPath(dir, n));
  return cf;
}

StatusOr<CheckpointFiles> ResolveFiles(const std::string& model_dir, LoadFormat format) {
  if (!IsDirectory(model_dir)) return NotFoundError("model directory " + model_dir + " does not exist");
  if (format == LoadFormat::kDummy)
    return InvalidArgumentError("load format 'dummy' has no checkpoint files");
  std::vector<std::string> entries = ListDir(model_dir);
  if (format != LoadFormat::kPt) {
    ASSIGN_OR_RETURN(CheckpointFiles cf, ListFormat(model_dir, entries, /*st=*/true));
    if (!cf.files.empty()) return cf;
    if (format == LoadFormat::kSafetensors)
      return NotFoundError("no *.safetensors files in " + model_dir);
  }
  ASSIGN_OR_RETURN(CheckpointFiles cf, ListFormat(model_dir, entries, /*st=*/false));
  if (cf.files.empty())
    return NotFoundError("no checkpoint (*.safetensors or pytorch_model*.bin) in " + model_dir);
  return cf;
}

// Every tensor the index promises must be in the shard it names.
Status VerifyIndex(const CheckpointFiles& cf, const std::string& dir, const WeightSource& src) {
  for (const auto& [tensor, file] : cf.weight_map) {
    if (!src.Has(tensor))
      return DataLossError(cf.index_path + ": tensor '" + tensor + "' is not in " + JoinPath(dir, file));
  }
  return OkStatus();
}

}  // namespace

StatusOr<LoadFormat> ParseLoadFormat(const std::string& s) {
  if (s == "auto") return LoadFormat::kAuto;
  if (s == "safetensors") return LoadFormat::kSafetensors;
  if (s == "pt") return LoadFormat::kPt;
  if (s == "dummy") return LoadFormat::kDummy;
  return InvalidArgumentError("unknown --load-format '" + s + "' (expected auto, safetensors, pt or dummy)");
}

StatusOr<std::vector<std::string>> ListCheckpointFiles(const std::string& model_dir,
                                                       LoadFormat format) {
  ASSIGN_OR_RETURN(CheckpointFiles cf, ResolveFiles(model_dir, format));
  return cf.files;
}

StatusOr<std::unique_ptr<WeightSource>> OpenCheckpoint(const std::string& model_dir,
                                                       LoadFormat format) {
  ASSIGN_OR_RETURN(CheckpointFiles cf, ResolveFiles(model_dir, format));
  std::vector<std::unique_ptr<WeightSource>> sources;
  for (const auto& f : cf.files) {
    if (!FileExists(f)) return NotFoundError("checkpoint shard " + f + " is missing");
    if (EndsWith(f, ".safetensors")) {
      ASSIGN_OR_RETURN(auto s, SafetensorsFile::Open(f));
      sources.push_back(std::move(s));
    } else {
      ASSIGN_OR_RETURN(auto s, OpenPtCheckpoint(f));
      sources.push_back(std::move(s));
    }
  }
  std::unique_ptr<WeightSource> out;
  if (sources.size() == 1) {
    out = std::move(sources[0]);
  } else {
    ASSIGN_OR_RETURN(out, MultiFileWeightSource::Create(std::move(sources), cf.files));
  }
  RETURN_IF_ERROR(VerifyIndex(cf, model_dir, *out));
  return out;
}

StatusOr<std::unique_ptr<MultiFileWeightSource>> MultiFileWeightSource::Create(
    std::vector<std::unique_ptr<WeightSource>> sources, std::vector<std::string> names) {
  CHECK_EQ(sources.size(), names.size());
  std::unique_ptr<MultiFileWeightSource> m(new MultiFileWeightSource());
  for (size_t i = 0; i < sources.size(); ++i) {
    for (const std::string& n : sources[i]->Names()) {
      auto [it, inserted] = m->where_.emplace(n, i);
      if (!inserted)
        return DataLossError("tensor '" + n + "' is in both " + names[it->second] + " and " + names[i]);
      m->order_.push_back(n);
    }
  }
  m->description_ = names.empty() ? "checkpoint" : names[0] + " (+" + std::to_string(names.size() - 1) + " more)";
  m->sources_ = std::move(sources);
  m->labels_ = std::move(names);
  return m;
}

bool MultiFileWeightSource::Has(const std::string& name) const { return where_.count(name) > 0; }

StatusOr<TensorInfo> MultiFileWeightSource::Info(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) return NotFoundError(description_ + ": no tensor '" + name + "'");
  return sources_[it->second]->Info(name);
}

StatusOr<Tensor> MultiFileWeightSource::Get(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) return NotFoundError(description_ + ": no tensor '" + name + "'");
  return sources_[it->second]->Get(name);
}

}  // namespace pagellm

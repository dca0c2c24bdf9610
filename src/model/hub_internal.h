// Pieces of hub.cc shared with hub_download.cc.
#pragma once

#include <string>

#include "model/hub.h"
#include "model/hub_http.h"

namespace pagellm::hub_internal {

// Authorization header list for `options` (empty without a token).
std::vector<std::string> AuthHeaders(const HubOptions& options);

// Maps an HTTP error status to a Status naming the repo (and file, if any).
Status HttpError(long status, const std::string& repo, const std::string& what, const std::string& body);

// Makes <repo_dir>/snapshots/<sha>/<file> exist: downloads {endpoint}/{repo}/resolve/{sha}/{file}
// into blobs/ (resumable .incomplete temp file, renamed when complete) and links it.
Status DownloadFile(const HubOptions& options, const std::string& repo, const std::string& repo_dir,
                    const std::string& sha, const std::string& file);

}  // namespace pagellm::hub_internal

#include "exec/find.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "types/validate.h"

namespace ocicni::exec {
namespace {

// IsExecutableFile reports whether `path` names (after symlinks) a regular
// file this process may execute.
bool IsExecutableFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  if (!S_ISREG(st.st_mode)) return false;
  return ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string VendorPluginDir(absl::string_view prefix, absl::string_view type) {
  return absl::StrCat(prefix, "/opt/", type, "/bin");
}

std::string PluginCandidate(absl::string_view dir, absl::string_view type) {
  return absl::StrCat(dir, absl::EndsWith(dir, "/") ? "" : "/", type);
}

std::vector<std::string> PluginSearchPath(absl::string_view type,
                                          absl::Span<const std::string> dirs,
                                          const FindOptions& options) {
  std::vector<std::string> path;
  path.reserve(dirs.size() + 1);
  if (options.vendor_prefix.has_value()) {
    path.push_back(VendorPluginDir(*options.vendor_prefix, type));
  }
  for (const std::string& dir : dirs) {
    if (!dir.empty()) path.push_back(dir);
  }
  return path;
}

absl::StatusOr<std::string> FindPlugin(absl::string_view type,
                                       absl::Span<const std::string> dirs,
                                       const FindOptions& options) {
  OCICNI_RETURN_IF_ERROR(types::ValidatePluginType(type));
  std::vector<std::string> search = PluginSearchPath(type, dirs, options);
  for (const std::string& dir : search) {
    std::string candidate = PluginCandidate(dir, type);
    if (IsExecutableFile(candidate)) return candidate;
  }
  if (search.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "CNI plugin \"", type, "\" not found: no plugin dirs configured"));
  }
  return absl::NotFoundError(absl::StrCat("CNI plugin \"", type,
                                          "\" not found in [",
                                          absl::StrJoin(search, ", "), "]"));
}

}  // namespace ocicni::exec

// Path string helpers shared by the config/ implementation files.
#ifndef OCICNI_CONFIG_INTERNAL_PATHS_H_
#define OCICNI_CONFIG_INTERNAL_PATHS_H_

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ocicni::config::config_internal {

// JoinPath joins `dir` and `name` with exactly one '/'.
inline std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (absl::EndsWith(dir, "/")) return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

// Dirname returns the parent of `path` ("." for a bare name, "/" for a child
// of the root). `path` has no trailing '/'.
inline absl::string_view Dirname(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// StripTrailingSlashes turns "/a/b//" into "/a/b" ("/" stays "/").
inline absl::string_view StripTrailingSlashes(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace ocicni::config::config_internal

#endif  // OCICNI_CONFIG_INTERNAL_PATHS_H_

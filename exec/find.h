// Finding a CNI plugin binary on the plugin search path.
//
// A plugin `type` from a network config is a file name inside one of the
// plugin dirs (CNI_PATH), never a path: it is validated before anything
// touches the filesystem, so that a config cannot make the runtime execute
// `../../sbin/reboot` (the CVE-2021-20206 class). The dirs are searched in
// order and the first regular, executable file named `type` wins; a directory
// or other non-regular file of that name is skipped.
//
//   OCICNI_ASSIGN_OR_RETURN(
//       std::string path,
//       exec::FindPlugin("bridge", {"/usr/lib/cni", "/opt/cni/bin"}));
//
//   // With the vendor dir "<prefix>/opt/<type>/bin" searched first:
//   exec::FindOptions options;
//   options.vendor_prefix = "/var/lib/kubelet";
//   auto path = exec::FindPlugin("bridge", dirs, options);
#ifndef OCICNI_EXEC_FIND_H_
#define OCICNI_EXEC_FIND_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ocicni::exec {

// FindOptions tunes the search.
struct FindOptions {
  // When set, the vendor dir VendorPluginDir(*vendor_prefix, type) (that is
  // "<prefix>/opt/<type>/bin") is searched before the plugin dirs, as the
  // Go ocicni and the kubelet did for vendored plugins.
  std::optional<std::string> vendor_prefix;
};

// VendorPluginDir formats the vendor dir template "%s/opt/%s/bin" with
// `prefix` and `type`.
std::string VendorPluginDir(absl::string_view prefix, absl::string_view type);

// PluginSearchPath returns the dirs FindPlugin searches for `type`, in order:
// the vendor dir (when configured) and then `dirs`. Empty entries of `dirs`
// are dropped. This is also the list to pass to the plugin as CNI_PATH.
// Does not validate `type` and does not touch the filesystem.
std::vector<std::string> PluginSearchPath(absl::string_view type,
                                          absl::Span<const std::string> dirs,
                                          const FindOptions& options = {});

// PluginCandidate is the file FindPlugin checks for `type` in `dir`:
// "<dir>/<type>" (no second '/' when `dir` ends with one).
std::string PluginCandidate(absl::string_view dir, absl::string_view type);

// FindPlugin returns the path PluginCandidate(dir, type) of the first dir in
// PluginSearchPath(type, dirs, options) that holds a regular file named
// `type` that the process may execute. Symlinks are followed.
//
// Errors:
//   kInvalidArgument  `type` fails types::ValidatePluginType (empty, ".",
//                     "..", or containing '/', '\\' or NUL); no filesystem
//                     access happened.
//   kNotFound         no dir holds such a file; the message names the type
//                     and every dir searched (or says none was configured).
//
// Thread-safe. Blocks on one stat()/access() per dir.
absl::StatusOr<std::string> FindPlugin(absl::string_view type,
                                       absl::Span<const std::string> dirs,
                                       const FindOptions& options = {});

}  // namespace ocicni::exec

#endif  // OCICNI_EXEC_FIND_H_

#include "ocicni/plugin_validator.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ocicni/failure.h"
#include "types/version.h"

namespace ocicni {

PluginValidator::PluginValidator(exec::Invoker* invoker,
                                 std::vector<std::string> plugin_dirs,
                                 exec::FindOptions find_options,
                                 bool probe_versions, absl::Duration timeout)
    : invoker_(invoker),
      plugin_dirs_(std::move(plugin_dirs)),
      find_options_(std::move(find_options)),
      probe_versions_(probe_versions),
      timeout_(timeout) {}

absl::StatusOr<types::VersionInfo> PluginValidator::Versions(
    const std::string& type, const std::string& path,
    const std::string& network) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("plugin ", path, " vanished"));
  }
  FileKey key{path, static_cast<int64_t>(st.st_size),
              static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                  st.st_mtim.tv_nsec};
  {
    absl::MutexLock lock(&mu_);
    auto it = versions_.find(key);
    if (it != versions_.end()) return it->second;
  }
  exec::InvokeRequest request;
  request.plugin_type = type;
  request.plugin_path = path;
  request.network_name = network;
  request.plugin_dirs = plugin_dirs_;
  request.find_options = find_options_;
  request.deadline = absl::Now() + timeout_;
  OCICNI_ASSIGN_OR_RETURN(types::VersionInfo info,
                          exec::GetVersionInfo(*invoker_, request));
  absl::MutexLock lock(&mu_);
  versions_[key] = info;
  return info;
}

absl::Status PluginValidator::Validate(
    const config::NetworkConfigList& network) {
  for (const config::PluginConfig& plugin : network.plugins) {
    absl::StatusOr<std::string> path =
        exec::FindPlugin(plugin.type, plugin_dirs_, find_options_);
    if (!path.ok()) {
      return WithFailure(
          absl::Status(path.status().code(),
                       absl::StrCat("network \"", network.name,
                                    "\": ", path.status().message())),
          network.name, plugin.type);
    }
    if (!probe_versions_) continue;
    absl::StatusOr<types::VersionInfo> info =
        Versions(plugin.type, *path, network.name);
    if (!info.ok())
      return WithFailure(info.status(), network.name, plugin.type);
    if (!types::SupportsVersion(*info, network.cni_version)) {
      return WithFailure(
          absl::FailedPreconditionError(absl::StrCat(
              "network \"", network.name, "\": plugin \"", plugin.type,
              "\" does not support cniVersion ", network.cni_version,
              " (it supports ", absl::StrJoin(info->supported_versions(), ", "),
              ")")),
          network.name, plugin.type);
    }
  }
  return absl::OkStatus();
}

}  // namespace ocicni

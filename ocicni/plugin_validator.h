// PluginValidator vets a network while the configuration is loaded: every
// plugin type of its chain must resolve to a binary in the plugin dirs and,
// with version probing, that binary must support the network's cniVersion
// (CNI VERSION command). A network failing this is listed as invalid with
// the reason, so it is never chosen as the default and a SetUpPod on it
// fails before anything runs.
//
//   PluginValidator validator(invoker, {"/usr/lib/cni"}, {}, /*probe=*/true,
//                             absl::Seconds(5));
//   config_options.load.validator = validator.AsNetworkValidator();
//
// VERSION answers are remembered per binary (path, size, mtime), so a reload
// re-probes only binaries that changed. Each probe is bounded by `timeout`:
// one hung binary cannot stall loading for longer.
//
// Thread-safety: thread-safe. The validator must outlive the store using it.
#ifndef OCICNI_OCICNI_PLUGIN_VALIDATOR_H_
#define OCICNI_OCICNI_PLUGIN_VALIDATOR_H_

#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "config/loader.h"
#include "config/network_config.h"
#include "exec/find.h"
#include "exec/invoker.h"
#include "types/cni.pb.h"

namespace ocicni {

class PluginValidator {
 public:
  // `invoker` must outlive the validator.
  PluginValidator(exec::Invoker* invoker, std::vector<std::string> plugin_dirs,
                  exec::FindOptions find_options, bool probe_versions,
                  absl::Duration timeout);

  // Validate checks `network`. Errors (kNotFound for a missing binary,
  // kFailedPrecondition for an unsupported version, or the probe's error)
  // name the network and the plugin.
  absl::Status Validate(const config::NetworkConfigList& network);

  config::NetworkValidator AsNetworkValidator() {
    return [this](const config::NetworkConfigList& n) { return Validate(n); };
  }

 private:
  // Identity of a binary file: path, size, mtime (ns).
  using FileKey = std::tuple<std::string, int64_t, int64_t>;

  absl::StatusOr<types::VersionInfo> Versions(const std::string& type,
                                              const std::string& path,
                                              const std::string& network);

  exec::Invoker* const invoker_;
  const std::vector<std::string> plugin_dirs_;
  const exec::FindOptions find_options_;
  const bool probe_versions_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  absl::flat_hash_map<FileKey, types::VersionInfo> versions_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace ocicni

#endif  // OCICNI_OCICNI_PLUGIN_VALIDATOR_H_

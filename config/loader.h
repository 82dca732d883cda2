// Discovery: reads the conf dirs into a Snapshot.
//
// A conf dir holds `*.conf`, `*.conflist` and `*.json` files (exact
// extensions), taken in byte-wise order of their names; the dirs are taken in
// the order given. A `.conflist` is a network configuration list; a `.conf`
// or `.json` holds a single plugin and is up-converted. Subdirectories are not
// configs, but `<confdir>/<name>/*.conf` adds plugins to the list named
// <name> (unless it sets loadOnlyInlinedPlugins).
//
// Files are opened without blocking and only read when they are regular and
// at most LoadOptions::max_file_size bytes, so a FIFO, a device or a huge file
// dropped into a conf dir costs one open and one fstat. One bad file never
// hides the good ones: it is listed as invalid with the reason, the rest load.
// When two files define the same network, the first wins and the later is
// listed as shadowed.
//
//   LoadOptions options;
//   options.default_network = "pods";  // optional
//   std::shared_ptr<const Snapshot> snapshot =
//       LoadDirs({"/etc/cni/net.d"}, options);
//
// Usually held by a ConfigStore (config/config_store.h), which reloads.
#ifndef OCICNI_CONFIG_LOADER_H_
#define OCICNI_CONFIG_LOADER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "config/network_config.h"
#include "config/snapshot.h"

namespace ocicni::config {

// The largest config file read by default: 1 MiB.
inline constexpr size_t kMaxConfigFileSize = size_t{1} << 20;

// NetworkValidator vets a parsed network before it is accepted, e.g. that
// every plugin type resolves to a binary that supports the network's version.
// A non-OK status marks the file invalid with that reason (its network name
// is then free for a later file). It runs once per candidate network on every
// load, on the loading thread, so it must bound its own time (a timeout per
// plugin probe) and should cache what it can.
using NetworkValidator = std::function<absl::Status(const NetworkConfigList&)>;

// LoadOptions tunes LoadDirs.
struct LoadOptions {
  // The network the runtime wants as default; empty means the first valid
  // network in file order.
  std::string default_network;
  // Optional; see NetworkValidator.
  NetworkValidator validator;
  // Files larger than this are rejected without being read.
  size_t max_file_size = kMaxConfigFileSize;
};

// ReadConfigFile reads a config file without blocking: it opens `path` with
// O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC, requires a regular file (after
// symlinks) of at most `max_size` bytes per fstat, and reads at most
// `max_size` + 1 bytes (a file growing past the limit is rejected too).
//
// Errors: open/read failures as ErrnoToStatus (kNotFound,
// kPermissionDenied, ...); not a regular file or too large: kInvalidArgument.
// All messages name the path. Thread-safe; no blocking on FIFOs or devices.
absl::StatusOr<std::string> ReadConfigFile(
    const std::string& path, size_t max_size = kMaxConfigFileSize);

// ListConfigFiles returns the paths of the entries of `dir` whose names end
// with one of `extensions` (each like ".conf", compared to the part from the
// last '.'), excluding directories (a symlink is followed to decide), sorted
// byte-wise by name. A missing `dir` yields an empty list and, if `exists` is
// not null, *exists = false.
//
// Errors: the directory cannot be opened or listed (ErrnoToStatus, naming
// it). Thread-safe.
absl::StatusOr<std::vector<std::string>> ListConfigFiles(
    const std::string& dir, absl::Span<const absl::string_view> extensions,
    bool* exists = nullptr);

// LoadConfigFile reads and parses one config file by its extension: a
// `.conflist` with the plugin configs of `<dir>/<name>/*.conf` appended
// (unless loadOnlyInlinedPlugins), anything else as a single-plugin `.conf`.
//
// Errors: those of ReadConfigFile, ParseConfList and ParseConf; a broken
// plugin config file under `<dir>/<name>/` fails the list, naming both files.
// Thread-safe.
absl::StatusOr<NetworkConfigList> LoadConfigFile(
    const std::string& path, size_t max_size = kMaxConfigFileSize);

// LoadDirs scans `dirs` in order and returns the snapshot. It does not fail:
// a missing dir contributes nothing, and every problem is recorded on the dir
// or file it concerns. Blocks for the file I/O and the validator; thread-safe.
std::shared_ptr<const Snapshot> LoadDirs(const std::vector<std::string>& dirs,
                                         const LoadOptions& options);

}  // namespace ocicni::config

#endif  // OCICNI_CONFIG_LOADER_H_

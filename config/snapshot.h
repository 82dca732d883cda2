// An immutable view of the network configurations found in the conf dirs at
// one moment: every file with its state, the valid networks by name, and the
// default network.
//
// Snapshots are built by LoadDirs (config/loader.h) and handed around as
// std::shared_ptr<const Snapshot>: a reader keeps the one it took for as long
// as it needs it (e.g. for a whole pod setup) while a reload builds the next.
//
//   std::shared_ptr<const Snapshot> snapshot = store.Current();
//   absl::StatusOr<const NetworkConfigList*> net = snapshot->Default();
//   if (!net.ok()) return net.status();  // kNotFound, says why
//   for (const ConfigFile& file : snapshot->files()) {
//     if (file.state == FileState::kInvalid) LOG(WARNING) << file.error;
//   }
//
// All methods are const and thread-safe; nothing blocks.
#ifndef OCICNI_CONFIG_SNAPSHOT_H_
#define OCICNI_CONFIG_SNAPSHOT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/network_config.h"

namespace ocicni::config {

// FileState is what became of one config file.
enum class FileState {
  kValid,     // defines a network of the snapshot
  kInvalid,   // unreadable, malformed, or rejected by the validator
  kShadowed,  // valid, but an earlier file defines the same network name
};

// FileStateName returns "valid", "invalid" or "shadowed".
absl::string_view FileStateName(FileState state);

// ConfigFile is one `*.conf`, `*.conflist` or `*.json` file of a conf dir.
struct ConfigFile {
  std::string path;
  FileState state = FileState::kInvalid;
  // kInvalid: why (the message names the file).
  absl::Status error;
  // The network name: always for kValid and kShadowed; for kInvalid, the
  // string `name` the file has, if any (even when that name is invalid).
  std::string network;
  // kShadowed: the file whose network of the same name is used.
  std::string shadowed_by;
};

// ConfigDir is one conf dir as the load saw it.
struct ConfigDir {
  std::string path;
  bool exists = false;
  // Set when the directory exists but could not be listed.
  absl::Status error;
};

class Snapshot {
 public:
  // Parts is what a load found; see the accessors.
  struct Parts {
    std::vector<ConfigDir> dirs;
    std::vector<ConfigFile> files;
    // Valid networks in file order; names must be unique.
    std::vector<NetworkConfigList> networks;
    // The `<confdir>/<name>` directories whose plugin configs were read.
    std::vector<std::string> plugin_conf_dirs;
  };

  // Builds the snapshot and picks the default: the network named
  // `default_network` if that is set (and none if it is not loaded), else
  // the first valid network.
  Snapshot(Parts parts, absl::string_view default_network);

  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // dirs lists the conf dirs in the order they were scanned.
  const std::vector<ConfigDir>& dirs() const { return parts_.dirs; }
  // files lists every config file, dir by dir, sorted byte-wise by name.
  const std::vector<ConfigFile>& files() const { return parts_.files; }
  // networks lists the valid networks in file order.
  const std::vector<NetworkConfigList>& networks() const {
    return parts_.networks;
  }
  // plugin_conf_dirs lists the existing `<confdir>/<name>` directories that
  // contributed plugin configs (a watcher should watch them too).
  const std::vector<std::string>& plugin_conf_dirs() const {
    return parts_.plugin_conf_dirs;
  }

  // Find returns the valid network named `name`, or nullptr. The pointer
  // lives as long as the snapshot.
  const NetworkConfigList* Find(absl::string_view name) const;

  // Get is Find with a reason. Errors: kNotFound "network \"<name>\" is not
  // loaded: <why>", where why is the rejection of the file that defines it,
  // if any.
  absl::StatusOr<const NetworkConfigList*> Get(absl::string_view name) const;

  // Default returns the default network. Errors: kNotFound saying why there
  // is none (no valid network; or the configured default is missing, with
  // the reason its file was rejected when there is such a file).
  absl::StatusOr<const NetworkConfigList*> Default() const;

  // DebugString renders the dirs, files and default for logs and tools.
  std::string DebugString() const;

 private:
  // NotLoaded is the kNotFound error for a network `name` that is missing.
  absl::Status NotLoaded(absl::string_view what, absl::string_view name) const;

  Parts parts_;
  absl::flat_hash_map<std::string, size_t> by_name_;
  // Index into networks, or -1 with default_error_ set.
  int default_index_ = -1;
  absl::Status default_error_;
};

}  // namespace ocicni::config

#endif  // OCICNI_CONFIG_SNAPSHOT_H_

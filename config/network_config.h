// Parsed CNI network configurations and the parsers that produce them.
//
// A network configuration list (a `.conflist` file, CNI-NOTES d.7) names a
// network, its spec version and the chain of plugins to run. A single-plugin
// `.conf` file is up-converted to a one-plugin list. Parsing works on bytes;
// files and directories are the business of config/loader.h.
//
//   OCICNI_ASSIGN_OR_RETURN(
//       NetworkConfigList list,
//       ParseConfList(bytes, "/etc/cni/net.d/10-pods.conflist"));
//   for (const PluginConfig& plugin : list.plugins) {
//     // plugin.type is safe to look up in a plugin dir; plugin.conf is the
//     // plugin's whole JSON object, unknown keys included.
//   }
//   cache_entry.config = list.Bytes();  // what libcni would cache
//
// Every parse error is kInvalidArgument whose message starts with the path
// and says what is wrong, e.g.
//   `/etc/cni/net.d/10-pods.conflist: plugins[1]: missing "type"`.
#ifndef OCICNI_CONFIG_NETWORK_CONFIG_H_
#define OCICNI_CONFIG_NETWORK_CONFIG_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace ocicni::config {

// PluginConfig is one plugin of a chain.
struct PluginConfig {
  // The plugin binary's name, checked with types::ValidatePluginType.
  std::string type;
  // The plugin's complete JSON object as written in the config (including
  // `type`, and any keys this library does not know).
  google::protobuf::Struct conf;
};

// NetworkConfigList is a parsed network configuration. Plain data; copyable.
struct NetworkConfigList {
  // The network name (types::ValidateNetworkName holds).
  std::string name;
  // The version the network runs at: `cniVersion` negotiated with
  // `cniVersions` (CNI-NOTES d.1). Always one of types::kSupportedVersions;
  // a missing or empty cniVersion reads as "0.1.0".
  std::string cni_version;
  // The `cniVersions` entries as written (possibly empty).
  std::vector<std::string> cni_versions;
  bool disable_check = false;
  bool disable_gc = false;
  bool load_only_inlined_plugins = false;
  // The chain, in execution order: the inlined `plugins` first, then the
  // plugin configs from `<confdir>/<name>/*.conf` when the loader added them.
  std::vector<PluginConfig> plugins;
  // The file's bytes exactly as read.
  std::string bytes;
  // For a `.conf` up-converted to a list: the synthesized list (see Bytes()).
  // Empty for a `.conflist`.
  std::string converted_bytes;
  // The file the configuration came from (as given to the parser).
  std::string path;

  // Bytes returns what libcni would store in its result cache for this
  // network: the file bytes of a `.conflist`; for a `.conf`, the synthesized
  // list {"cniVersion","name","plugins":[<the conf>]} written canonically by
  // types::WriteJson (sorted keys, no whitespace, as Go's json.Marshal).
  const std::string& Bytes() const {
    return converted_bytes.empty() ? bytes : converted_bytes;
  }
};

// PluginConfReader returns extra plugin configs for the network named
// `network_name`, in order (the loader reads `<confdir>/<name>/*.conf`).
using PluginConfReader =
    std::function<absl::StatusOr<std::vector<PluginConfig>>(
        absl::string_view network_name)>;

// ParseConfList parses a `.conflist`. `path` only names the source in errors
// and is stored in the result.
//
// The rules (CNI-NOTES d.7): `name` is required, a string, and a valid network
// name; `cniVersion` is a string, negotiated with `cniVersions` (an array of
// strings), and the outcome must be a supported version; `disableCheck`,
// `disableGC` and `loadOnlyInlinedPlugins` are JSON bools or the strings
// "true"/"false" in any case; `plugins`, when present, is a non-empty array of
// objects each with a valid string `type`; without `plugins`,
// `loadOnlyInlinedPlugins` must not be true. Unless `loadOnlyInlinedPlugins`,
// the configs `extra_plugins(name)` returns are appended (an error from it
// fails the parse). A list left with no plugins at all is an error
// ("no plugin configs found").
//
// Errors: kInvalidArgument "<path>: <reason>"; an error of `extra_plugins`
// keeps its code and gets the path prefixed. Thread-safe; does not block
// (beyond what `extra_plugins` does).
absl::StatusOr<NetworkConfigList> ParseConfList(
    absl::string_view bytes, absl::string_view path,
    const PluginConfReader& extra_plugins = nullptr);

// ParseConf parses a single-plugin `.conf` (or `.json`) and up-converts it to
// a one-plugin list whose Bytes() are the synthesized list. The same rules as
// for lists apply to `name` and `cniVersion`; the object itself is the plugin
// and needs a valid `type`. A `.conf` without `type` gets its own error that
// says it may be a conflist saved under the wrong extension.
//
// Errors: kInvalidArgument "<path>: <reason>". Thread-safe; does not block.
absl::StatusOr<NetworkConfigList> ParseConf(absl::string_view bytes,
                                            absl::string_view path);

// ParsePluginConf parses one plugin object (a file of `<confdir>/<name>/`):
// a JSON object with a valid string `type`.
//
// Errors: kInvalidArgument "<path>: <reason>". Thread-safe; does not block.
absl::StatusOr<PluginConfig> ParsePluginConf(absl::string_view bytes,
                                             absl::string_view path);

}  // namespace ocicni::config

#endif  // OCICNI_CONFIG_NETWORK_CONFIG_H_

// ocicnictl's output: each command's answer as plain data, rendered either
// for people (aligned text) or as JSON (the stable shapes scripts rely on).
//
// Renderers are pure functions of their input, so the golden tests pin both
// forms. JSON is written canonically by types::WriteJson (keys sorted, no
// whitespace) followed by a newline; keys are camelCase:
//
//   networks   {"default": NAME|null, "files": [{"file", "network",
//              "cniVersion", "plugins": [TYPE...], "valid", "error",
//              "shadowedBy"}]}
//   add/status [{"network", "ifname", "result": CNI_RESULT}]
//   cache list [{"containerId", "network", "ifname", "netns", "ips": [CIDR]}]
//   inspect    {"links": [{"name", "index", "mac", "mtu", "up", "addresses":
//              [{"address": CIDR, "family": 4|6, "scope"}]}],
//              "routes": [{"dst", "gw", "dev", "family"}]}
//   netns list ["NAME", ...]
//   version    {"version", "cniVersions": [...]}
//   error      {"error", "code", "network", "plugin"} (on stderr)
//
//   std::string text = FormatResults(results, Style::kHuman);
#ifndef OCICNI_TOOLS_OCICNICTL_FORMAT_H_
#define OCICNI_TOOLS_OCICNICTL_FORMAT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "netns/inspector.h"
#include "ocicni/ocicni.h"

namespace ocicni::ctl {

enum class Style { kHuman, kJson };

// NetworkFile is one config file as `networks` reports it.
struct NetworkFile {
  std::string file;
  // Unset when the file has no usable name.
  std::optional<std::string> network;
  std::optional<std::string> cni_version;
  std::vector<std::string> plugins;
  // Parses and validates (shadowed files are valid but not used).
  bool valid = false;
  std::optional<std::string> error;
  std::optional<std::string> shadowed_by;
};

// NetworksView is the `networks` answer.
struct NetworksView {
  std::vector<std::string> conf_dirs;
  // Remarks on the conf dirs ("/x does not exist"), for human output.
  std::vector<std::string> dir_notes;
  std::vector<NetworkFile> files;
  std::optional<std::string> default_network;
  // Why there is no default network, when there is none.
  std::string no_default_reason;
};

std::string FormatNetworks(const NetworksView& view, Style style);

// FormatResults renders add's and status's results. For people, `heading`
// ("Pod c1 attached to") starts the first line, followed by the count.
std::string FormatResults(const std::string& heading,
                          const std::vector<NetResult>& results, Style style);

// CacheEntry is one cached attachment.
struct CacheEntry {
  std::string container_id;
  std::string network;
  std::string ifname;
  std::string netns;
  std::vector<std::string> ips;
};

std::string FormatCache(const std::vector<CacheEntry>& entries,
                        const std::string& cache_dir, Style style);

// InspectView is what `inspect` read from a namespace.
struct InspectView {
  std::string netns;
  std::vector<netns::Link> links;
  std::vector<netns::Address> addresses;
  std::vector<netns::Route> routes;
};

std::string FormatInspect(const InspectView& view, Style style);

std::string FormatNetnsList(const std::vector<std::string>& names,
                            const std::string& dir, Style style);

std::string FormatVersion(Style style);

// FormatDone renders a command that has nothing to report but success:
// `{}` in JSON, `message` for people.
std::string FormatDone(const std::string& message, Style style);

// FormatError renders a failure of `command` (for stderr): the status
// message, the network and plugin it concerns (ocicni::FailureOf) and the
// CNI error code (ocicni::CniErrorOf, 0 when there is none).
std::string FormatError(const std::string& command, const absl::Status& status,
                        Style style);

// FormatUsageError renders a usage error, with a hint at `help_command`'s
// help ("" = the overview).
std::string FormatUsageError(const std::string& message,
                             const std::string& help_command, Style style);

}  // namespace ocicni::ctl

#endif  // OCICNI_TOOLS_OCICNICTL_FORMAT_H_

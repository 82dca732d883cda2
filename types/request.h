// Building what a plugin reads on stdin from its network config (spec
// "Section 3", libcni's runtime config injection).
//
// Only the keys the runtime injects change: `name` (the list's name),
// `cniVersion` (the negotiated version), `prevResult` (when given) and
// `runtimeConfig` (the capabilities the plugin declares `true` that the
// runtime supplied; left as it was when that set is empty). Every other key
// of the plugin's config passes through unchanged. The output is canonical
// JSON (types/json.h): the same input always gives the same bytes.
//
//   google::protobuf::Struct caps = CapabilityArgs(runtime_config);
//   OCICNI_ASSIGN_OR_RETURN(std::string stdin_bytes,
//       BuildPluginRequest(plugin.conf, "mynet", "1.0.0", &prev, caps));
#ifndef OCICNI_TYPES_REQUEST_H_
#define OCICNI_TYPES_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "types/cni.pb.h"

namespace ocicni::types {

// CapabilityArgs turns a RuntimeConfig into the capability arguments keyed by
// capability name (portMappings, bandwidth, ipRanges, dns, ips, mac,
// infinibandGUID, deviceID, aliases, cgroupPath,
// io.kubernetes.cri.pod-annotations), each present only when set.
google::protobuf::Struct CapabilityArgs(const RuntimeConfig& config);

// BuildPluginRequest returns the stdin bytes for one plugin of a chain.
// `prev_result` may be null (first plugin of ADD, or DEL below 0.4.0).
// Errors: kInvalidArgument when `plugin_conf` has a non-object
// `capabilities`.
absl::StatusOr<std::string> BuildPluginRequest(
    const google::protobuf::Struct& plugin_conf, absl::string_view network_name,
    absl::string_view cni_version, const google::protobuf::Value* prev_result,
    const google::protobuf::Struct& capability_args);

// Attachment identifies one attachment still in use, for GC.
struct Attachment {
  std::string container_id;
  std::string ifname;
};

// BuildGCRequest returns the stdin bytes of a GC call: the plugin config with
// `name`, `cniVersion`, and the valid attachments under both
// `cni.dev/valid-attachments` and the older `cni.dev/attachments`, each entry
// {"containerID", "ifname"}.
std::string BuildGCRequest(const google::protobuf::Struct& plugin_conf,
                           absl::string_view network_name,
                           absl::string_view cni_version,
                           const std::vector<Attachment>& valid);

}  // namespace ocicni::types

#endif  // OCICNI_TYPES_REQUEST_H_

// Validation of the identifiers every CNI verb takes, applied before anything
// touches the filesystem or runs a plugin.
//
//   OCICNI_RETURN_IF_ERROR(ValidateContainerId(pod.id));
//   OCICNI_RETURN_IF_ERROR(ValidateInterfaceName("eth0"));
//   OCICNI_RETURN_IF_ERROR(ValidatePluginType("bridge"));
//
// Every function returns OK or kInvalidArgument whose message quotes the
// value and says why it is invalid.
#ifndef OCICNI_TYPES_VALIDATE_H_
#define OCICNI_TYPES_VALIDATE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ocicni::types {

// ValidateContainerId: non-empty, ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$.
absl::Status ValidateContainerId(absl::string_view id);

// ValidateNetworkName: the same rule as container IDs.
absl::Status ValidateNetworkName(absl::string_view name);

// ValidateInterfaceName: 1 to 15 bytes, not "." or "..", no '/', ':', NUL or
// whitespace.
absl::Status ValidateInterfaceName(absl::string_view ifname);

// ValidatePluginType: non-empty, not "." or "..", no '/', '\\' or NUL. A type
// is a file name inside a plugin dir, never a path.
absl::Status ValidatePluginType(absl::string_view type);

}  // namespace ocicni::types

#endif  // OCICNI_TYPES_VALIDATE_H_
